// Which Grafana of the matrix this jest project tests (test/plugin/grafana/matrix.js): the project's
// `globals.GRAFANA`, set in jest.config.js.
export interface GrafanaUnderTest {
  /** 10.4, 11.6...: the folder under test/plugin/grafana/, or the root's own install. */
  label: string;
  /** @grafana/data's version. */
  grafana: string;
  react: string;
  /** The folder whose node_modules hold this version's shared modules. */
  dir: string;
}

export const GRAFANA = (globalThis as unknown as { GRAFANA: GrafanaUnderTest }).GRAFANA;
if (!GRAFANA?.dir) throw new Error('GRAFANA is not set: run the plugin tests through jest.config.js');

/** "Grafana 13.2.3 (React 19.2.8)", for test names. */
export const GRAFANA_NAME = `Grafana ${GRAFANA.grafana} (React ${GRAFANA.react})`;
