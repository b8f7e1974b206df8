import { serverSuite } from './server-suite.js';

serverSuite('es-8.18.8', {
  server: 'Elasticsearch 8.18.8',
  strategy: 'point-in-time + search_after (tiebreaker _shard_doc)',
  typed: false,
});
