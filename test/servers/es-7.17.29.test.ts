import { serverSuite } from './server-suite.js';

serverSuite('es-7.17.29', {
  server: 'Elasticsearch 7.17.29',
  strategy: 'point-in-time + search_after (tiebreaker _shard_doc)',
  typed: false,
});
