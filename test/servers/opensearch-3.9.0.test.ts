import { serverSuite } from './server-suite.js';

serverSuite('opensearch-3.9.0', {
  server: 'OpenSearch 3.9.0',
  strategy: 'point-in-time + search_after (tiebreaker _shard_doc)',
  typed: false,
});
