// The instance settings Grafana hands the data source, shared by the jsdom tests and the browser
// harness (which bundles this file: nothing here may need Node or jest).
import type { DataSourceInstanceSettings } from '@grafana/data';
import type { CloserOptions } from '../../../plugin/src/types.js';

/** Where Grafana's data source proxy serves this data source (access: proxy, by its uid). */
export const PROXY_URL = '/api/datasources/proxy/uid/closer-audit';

export function instanceSettings(
  jsonData: Partial<CloserOptions>,
): DataSourceInstanceSettings<CloserOptions> {
  return {
    id: 1,
    uid: 'closer-audit',
    type: 'closer-audit-datasource',
    name: 'Closer audit',
    url: PROXY_URL,
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: { id: 'closer-audit-datasource', name: 'Closer audit', type: 'datasource', info: {} },
  } as unknown as DataSourceInstanceSettings<CloserOptions>;
}
