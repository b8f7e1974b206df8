import { serverSuite } from './server-suite.js';

serverSuite('es-9.5.4', {
  server: 'Elasticsearch 9.5.4',
  strategy: 'point-in-time + search_after (tiebreaker _shard_doc)',
  typed: false,
});
