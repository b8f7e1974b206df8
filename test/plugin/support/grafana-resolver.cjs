// Jest resolver for one Grafana version of the matrix (test/plugin/grafana/matrix.js): the modules
// Grafana shares with plugins, and React's own, resolve from that version's install, so that the
// tests, @testing-library/react and the plugin all see one React and one @grafana/*; everything
// else resolves as usual (from the importing file: a version's own packages find their own deps).
const SHARED = /^(react|react-dom|scheduler|rxjs|@grafana\/[^/]+|@emotion\/[^/]+)(\/.*)?$/;

module.exports = function resolverFor(dir) {
  // Resolution walks up from basedir: <dir>/node_modules first.
  const basedir = dir;
  return (request, options) =>
    options.defaultResolver(request, SHARED.test(request) ? { ...options, basedir } : options);
};
