import { serverSuite } from './server-suite.js';

serverSuite('opensearch-2.19.6', {
  server: 'OpenSearch 2.19.6',
  strategy: 'point-in-time + search_after (tiebreaker _index, _id)',
  typed: false,
});
