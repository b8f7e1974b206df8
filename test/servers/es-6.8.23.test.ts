import { serverSuite } from './server-suite.js';

serverSuite('es-6.8.23', { server: 'Elasticsearch 6.8.23', strategy: 'sorted scroll', typed: true });
