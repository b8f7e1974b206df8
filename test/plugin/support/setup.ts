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
