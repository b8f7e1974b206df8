// Jest resolver: Grafana 13.2's shared modules from this folder (see ../matrix.js).
module.exports = require('../../support/grafana-resolver.cjs')(__dirname);
