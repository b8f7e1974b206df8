// elasticdump's own Elasticsearch input transport, for the test node. Before its first search
// elasticdump asks `GET /` for the server version; the test node has no rest-root module and answers
// 405, so this transport supplies that one answer (ELASTICDUMP_ROOT_RESPONSE: the root document a
// full node would return, built by ingest.ts from `_nodes`). Every other request, and all of the
// version handling, is elasticdump's own. Used with `--inputTransport`.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports */
const { elasticsearch } = require('elasticdump/lib/transports/elasticsearch.js');

class elasticsearchTestNode extends elasticsearch {
  constructor(parent, url) {
    // What elasticdump passes its built-in transport for an input URL.
    super(parent, url, {
      index: parent.options['input-index'],
      headers: parent.options.headers,
      type: 'input',
    });
  }

  version(prefix, callback) {
    if (this.ESversion) return callback();
    const request = this.baseRequest;
    const root = `${this.base.host}/`;
    this.baseRequest = (req, cb) => {
      this.baseRequest = request;
      if (req.method === 'GET' && req.url === root) {
        return cb(null, { statusCode: 200, headers: {}, body: process.env.ELASTICDUMP_ROOT_RESPONSE });
      }
      return request(req, cb);
    };
    return super.version(prefix, callback);
  }
}

module.exports = { elasticsearchTestNode };
