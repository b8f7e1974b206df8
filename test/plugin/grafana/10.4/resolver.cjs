// Jest resolver: Grafana 10.4's shared modules from this folder (see ../matrix.js).
module.exports = require('../../support/grafana-resolver.cjs')(__dirname);
