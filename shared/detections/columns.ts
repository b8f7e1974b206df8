import type { ColumnSpec } from '../event/columns.js';
import { detectionsPrefix } from '../layout/layout.js';

import { SEVERITIES } from '../api/contract.js';

export { SEVERITIES };
export type Severity = (typeof SEVERITIES)[number];

/**
 * A stored alert: one row per (rule, entity, window), stored under `detections/dt=…/` as Parquet
 * and read by the `detections` table. Its id is a hash of those three, so a window seen by many
 * runs stays one alert.
 */
export const DETECTION_COLUMNS = [
  { name: 'id', type: 'string', required: true, description: 'sha-256 of rule, entity and window' },
  { name: 'rule', type: 'string', required: true, description: 'the rule id' },
  { name: 'title', type: 'string', required: true, description: 'the rule title, filled in' },
  { name: 'severity', type: 'string', required: true, description: 'low, medium, high or critical' },
  { name: 'technique', type: 'string', required: true, description: 'MITRE ATT&CK technique id' },
  { name: 'key', type: 'string', required: true, description: 'what the entity is (source_ip, user_id, …)' },
  { name: 'entity', type: 'string', required: true, description: 'the value alerted on' },
  { name: 'window_start', type: 'timestamp', required: true, description: 'start of the window (UTC)' },
  { name: 'window_end', type: 'timestamp', required: true, description: 'end of the window (exclusive)' },
  { name: 'first_ts', type: 'timestamp', required: true, description: 'first matching event' },
  { name: 'last_ts', type: 'timestamp', required: true, description: 'last matching event' },
  { name: 'count', type: 'int', required: true, description: 'matching events in the window' },
  { name: 'measure', type: 'int', required: true, description: "the rule's measure (≥ its threshold)" },
  { name: 'event_ids', type: 'string_list', required: true, description: 'up to 20 matching event ids' },
  { name: 'raised_at', type: 'timestamp', required: true, description: 'when a run first raised it' },
  { name: 'updated_at', type: 'timestamp', required: true, description: 'when a run last saw it' },
] as const satisfies readonly ColumnSpec[];

type TsOf<T> = T extends 'timestamp' | 'int' ? number : T extends 'string_list' ? string[] : string;
export type Alert = {
  -readonly [C in (typeof DETECTION_COLUMNS)[number] as C['name']]: TsOf<C['type']>;
};

export { detectionsPrefix };

export function detectionsKey(dt: string, rule: string): string {
  return `${detectionsPrefix(dt)}${rule}.parquet`;
}
