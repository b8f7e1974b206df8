// Jest resolver: Grafana 12.4's shared modules from this folder (see ../matrix.js).
module.exports = require('../../support/grafana-resolver.cjs')(__dirname);
