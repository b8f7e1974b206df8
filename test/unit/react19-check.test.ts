import { describe, expect, it } from '@jest/globals';
import { removedReactApis } from '../../plugin/react19.js';

// The plugin build's React 19 check (plugin/react19.ts): each API React 19 removed is found, in
// source and in compiled (bundled node_modules) form, and what React 19 keeps is left alone.

const apis = (text: string, file = 'x.tsx') => removedReactApis(file, text).map((p) => `${p.line} ${p.api}`);

describe('the React 19 check of what the plugin bundles', () => {
  it('finds defaultProps on function components, memo and forwardRef, not on classes', () => {
    const text = [
      'function Fn() { return null; }',
      'Fn.defaultProps = { a: 1 };',
      'const Memo = React.memo(Fn); Memo.defaultProps = {};',
      'class Ok extends React.Component { static defaultProps = { a: 1 }; }',
      'Ok.defaultProps = { a: 2 };',
      'const AlsoOk = class extends React.Component {}; AlsoOk.defaultProps = {};',
    ].join('\n');
    expect(apis(text)).toEqual([
      '2 defaultProps on a function component',
      '3 defaultProps on a function component',
    ]);
  });

  it('finds string refs, in JSX and in compiled createElement props', () => {
    expect(apis('const a = <input ref="field" />;\nconst b = <input ref={r} />;')).toEqual(['1 string ref']);
    expect(apis('React.createElement("input", { ref: "field" });', 'lib.js')).toEqual(['1 string ref']);
  });

  it('finds ReactDOM.render/hydrate and findDOMNode however react-dom is imported', () => {
    expect(apis("import ReactDOM from 'react-dom';\nReactDOM.render(el, root);")).toEqual([
      '2 ReactDOM.render',
    ]);
    expect(apis("import { render as r } from 'react-dom';\nr(el, root);")).toEqual([
      '1 ReactDOM.render',
      '2 ReactDOM.render',
    ]);
    expect(apis('var d = require("react-dom");\nd.hydrate(el, root);', 'lib.js')).toEqual([
      '2 ReactDOM.hydrate',
    ]);
    expect(apis('require("react-dom").render(el, root);', 'lib.js')).toEqual(['1 ReactDOM.render']);
    expect(apis('const n = ReactDOM.findDOMNode(this);\nunmountComponentAtNode(root);')).toEqual([
      '1 ReactDOM.findDOMNode',
      '2 ReactDOM.unmountComponentAtNode',
    ]);
    // createRoot(...).render and an unrelated render method are React 19's own API.
    expect(
      apis("import { createRoot } from 'react-dom/client';\ncreateRoot(root).render(el);\nchart.render();"),
    ).toEqual([]);
  });

  it('finds legacy context and createFactory', () => {
    const text = [
      'class P extends React.Component {',
      '  static childContextTypes = {};',
      '  getChildContext() { return {}; }',
      '}',
      'C.contextTypes = { theme: x };',
      'const f = React.createFactory("div");',
    ].join('\n');
    expect(apis(text)).toEqual([
      '2 legacy context (childContextTypes)',
      '3 legacy context (getChildContext)',
      '5 legacy context (contextTypes)',
      '6 React.createFactory',
    ]);
  });

  it('passes modern code: hooks, createContext, ref objects and callbacks', () => {
    const text = [
      "import React, { useRef, createContext } from 'react';",
      'const Ctx = createContext(null);',
      'export function Editor({ limit = 500 }) { const ref = useRef(null); return <input ref={ref} data-limit={limit} />; }',
    ].join('\n');
    expect(apis(text)).toEqual([]);
  });
});
