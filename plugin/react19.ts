// React 19 readiness, checked at build time over every file the plugin bundles (its own code and
// anything from node_modules): React 19 removed these APIs, and Grafana 13.2+ runs every plugin on
// React 19, so a bundle using one would break there while working on Grafana 10-12.
// https://react.dev/blog/2024/04/25/react-19-upgrade-guide#removed-deprecated-react-apis
import ts from 'typescript';

export interface Problem {
  file: string;
  line: number;
  api: string;
}

/** Removed from react-dom in 19, whatever they are called on. */
const REMOVED_DOM = new Set(['findDOMNode', 'unmountComponentAtNode', 'unstable_renderSubtreeIntoContainer']);
/** Legacy context (contextTypes / childContextTypes / getChildContext): removed in 19. */
const LEGACY_CONTEXT = new Set(['contextTypes', 'childContextTypes', 'getChildContext']);
/** react-dom's render and hydrate: removed in 19 (react-dom/client's createRoot/hydrateRoot instead). */
const REMOVED_RENDER = new Set(['render', 'hydrate']);

function isReactDomModule(node: ts.Node | undefined): boolean {
  return !!node && ts.isStringLiteralLike(node) && node.text === 'react-dom';
}

function isRequireOfReactDom(node: ts.Expression | undefined): boolean {
  return (
    !!node &&
    ts.isCallExpression(node) &&
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'require' &&
    isReactDomModule(node.arguments[0])
  );
}

/** The removed React APIs one source file uses. */
export function removedReactApis(file: string, text: string): Problem[] {
  const kind = /\.tsx$/.test(file)
    ? ts.ScriptKind.TSX
    : /\.ts$/.test(file)
      ? ts.ScriptKind.TS
      : ts.ScriptKind.JSX;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const problems: Problem[] = [];
  const report = (node: ts.Node, api: string) =>
    problems.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, api });

  // Names bound to react-dom itself (import ReactDOM / * as / require) and to its render/hydrate.
  const domModules = new Set<string>();
  const domRenders = new Map<string, string>();
  // Names of classes, whose defaultProps React 19 still honours.
  const classes = new Set<string>();
  const collect = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && isReactDomModule(node.moduleSpecifier)) {
      const c = node.importClause;
      if (c?.name) domModules.add(c.name.text);
      if (c?.namedBindings && ts.isNamespaceImport(c.namedBindings))
        domModules.add(c.namedBindings.name.text);
      if (c?.namedBindings && ts.isNamedImports(c.namedBindings)) {
        for (const el of c.namedBindings.elements) {
          const imported = (el.propertyName ?? el.name).text;
          if (REMOVED_RENDER.has(imported)) {
            domRenders.set(el.name.text, imported);
            report(el, `ReactDOM.${imported}`);
          }
        }
      }
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      if (isRequireOfReactDom(node.initializer)) domModules.add(node.name.text);
      if (node.initializer && ts.isClassExpression(node.initializer)) classes.add(node.name.text);
    }
    if (ts.isClassDeclaration(node) && node.name) classes.add(node.name.text);
    ts.forEachChild(node, collect);
  };
  collect(sf);

  const visit = (node: ts.Node): void => {
    // X.defaultProps = ... on anything but a class (function components, memo, forwardRef).
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(node.left) &&
      node.left.name.text === 'defaultProps' &&
      !(ts.isIdentifier(node.left.expression) && classes.has(node.left.expression.text))
    ) {
      report(node.left, 'defaultProps on a function component');
    }
    // String refs: ref="name" in JSX, or { ref: "name" } in props (compiled JSX).
    if (ts.isJsxAttribute(node) && ts.isIdentifier(node.name) && node.name.text === 'ref') {
      if (node.initializer && ts.isStringLiteral(node.initializer)) report(node, 'string ref');
    }
    if (
      ts.isPropertyAssignment(node) &&
      ((ts.isIdentifier(node.name) && node.name.text === 'ref') ||
        (ts.isStringLiteral(node.name) && node.name.text === 'ref')) &&
      ts.isStringLiteralLike(node.initializer)
    ) {
      report(node, 'string ref');
    }
    if (ts.isPropertyAccessExpression(node)) {
      const name = node.name.text;
      if (REMOVED_DOM.has(name)) report(node, `ReactDOM.${name}`);
      if (name === 'createFactory') report(node, 'React.createFactory');
      if (
        REMOVED_RENDER.has(name) &&
        ((ts.isIdentifier(node.expression) && domModules.has(node.expression.text)) ||
          isRequireOfReactDom(node.expression))
      ) {
        report(node, `ReactDOM.${name}`);
      }
    }
    if (ts.isIdentifier(node) && REMOVED_DOM.has(node.text) && !ts.isPropertyAccessExpression(node.parent)) {
      report(node, `ReactDOM.${node.text}`);
    }
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      domRenders.has(node.expression.text)
    ) {
      report(node, `ReactDOM.${domRenders.get(node.expression.text)}`);
    }
    // Legacy context: static contextTypes, childContextTypes, getChildContext(), or assigned.
    if (
      (ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isPropertyAssignment(node)) &&
      ts.isIdentifier(node.name) &&
      LEGACY_CONTEXT.has(node.name.text)
    ) {
      report(node.name, `legacy context (${node.name.text})`);
    }
    if (ts.isPropertyAccessExpression(node) && LEGACY_CONTEXT.has(node.name.text)) {
      const parent = node.parent;
      if (ts.isBinaryExpression(parent) && parent.left === node)
        report(node, `legacy context (${node.name.text})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // One report per place and API.
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.api}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
