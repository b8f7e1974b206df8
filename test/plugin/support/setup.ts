import '@testing-library/jest-dom/jest-globals';

// @grafana/ui's icons load their SVG asynchronously (react-inlinesvg) and set state when done,
// outside any act(): React's warning about it (ReactInlineSVG in React 18, InlineSVG in 19) is
// noise here, and only that warning is dropped.
const error = console.error.bind(console);
console.error = (...args: unknown[]) => {
  const text = args.map(String).join(' ');
  if (text.includes('not wrapped in act') && text.includes('InlineSVG')) return;
  error(...args);
};

// i18next (loaded by @grafana/ui 12.4) advertises its vendor's product on every init: noise too.
const info = console.info.bind(console);
console.info = (...args: unknown[]) => {
  if (String(args[0]).includes('i18next is made possible')) return;
  info(...args);
};
