import { z } from 'zod';
import type { Format } from '../../shared/layout/layout.js';
// Types only: the query Lambda reads these settings too, and bundles no Elasticsearch client.
import type { EsConfig } from '../sources/elasticsearch/config.js';
import { DURATION_EXAMPLES, isDuration, parseDuration } from '../../shared/time/duration.js';

/**
 * The CLOSER_* settings the CLI and the ingest Lambda share, read by one schema: the same
 * defaults, the same accepted values, the same one-line errors naming the setting. The CLI passes
 * its flags over the environment (a flag wins); the Lambda passes the environment alone.
 */

/** A setting given wrong: the CLI exits 2 (as for any usage error), the Lambda fails its run. */
export class SettingError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'SettingError';
  }
}

/** `ndjson` names the .ndjson.gz files; `json` is its older name, still accepted. */
export const FORMAT_CHOICES = {
  parquet: ['parquet'],
  ndjson: ['ndjson'],
  json: ['ndjson'],
  both: ['parquet', 'ndjson'],
} as const satisfies Record<string, readonly Format[]>;

export const DEFAULT_LOOKBACK = '3h';
export const DEFAULT_STOP_MARGIN_SECONDS = 60;
export const DEFAULT_OUT = './closer-audit-data';
export const DEFAULT_INDEX = 'closer';

// An empty variable is an unset one: serverless.yml passes empty parameters as ''.
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const text = () => z.preprocess(unsetIfEmpty, z.string().optional());

const duration = (minMs: number) =>
  z
    .string()
    .refine((s) => isDuration(s) && parseDuration(s) >= minMs, {
      message: `use a duration${minMs > 0 ? ' longer than 0' : ''} such as ${DURATION_EXAMPLES}`,
    })
    .transform(parseDuration);

const onOff = z
  .string()
  .regex(/^(1|true|on|yes|0|false|off|no)$/i, { message: 'must be on or off' })
  .transform((v) => /^(1|true|on|yes)$/i.test(v));

export const SettingsSchema = z.object({
  CLOSER_OUT: text(),
  CLOSER_FORMAT: z.preprocess(
    unsetIfEmpty,
    z
      .enum(Object.keys(FORMAT_CHOICES) as [keyof typeof FORMAT_CHOICES], {
        message: 'use parquet, ndjson (alias json) or both',
      })
      .default('parquet')
      .transform((name): Format[] => [...FORMAT_CHOICES[name]]),
  ),
  CLOSER_LOOKBACK: z.preprocess(unsetIfEmpty, duration(0).prefault(DEFAULT_LOOKBACK)),
  CLOSER_FIRST_WINDOW: z.preprocess(unsetIfEmpty, duration(1).optional()),
  CLOSER_REDACTION_RULES: text(),
  CLOSER_DETECTION_RULES: text(),
  CLOSER_STOP_MARGIN_SECONDS: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: 'use a whole number of seconds' })
      .int({ message: 'use a whole number of seconds' })
      .positive({ message: 'use a whole number of seconds above 0' })
      .default(DEFAULT_STOP_MARGIN_SECONDS),
  ),
  // The query API's limit per query: `serve` and the query Lambda (each with its own default).
  CLOSER_QUERY_TIMEOUT_MS: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: 'milliseconds, e.g. 30000' })
      .int({ message: 'milliseconds, e.g. 30000' })
      .positive({ message: 'milliseconds, e.g. 30000' })
      .optional(),
  ),
  CLOSER_ES_URL: text(),
  CLOSER_ES_CLOUD_ID: text(),
  CLOSER_ES_API_KEY: text(),
  CLOSER_ES_USERNAME: text(),
  CLOSER_ES_PASSWORD: text(),
  CLOSER_ES_INDEX: z.preprocess(unsetIfEmpty, z.string().default(DEFAULT_INDEX)),
  CLOSER_ES_CA_FILE: text(),
  CLOSER_ES_COMPRESSION: z.preprocess(unsetIfEmpty, onOff.optional()),
  CLOSER_ES_SERVER: text(),
  CLOSER_ES_SECRET_ID: text(),
  CLOSER_ES_SSM_PARAMETER: text(),
});

export type SettingName = keyof z.input<typeof SettingsSchema>;
export type Settings = z.output<typeof SettingsSchema>;

/** Settings whose values are credentials: an error names them, never shows them. */
const SECRET: ReadonlySet<SettingName> = new Set([
  'CLOSER_ES_API_KEY',
  'CLOSER_ES_PASSWORD',
  'CLOSER_ES_CLOUD_ID',
]);

/** The CLI flag that sets each, for messages (`--lookback (CLOSER_LOOKBACK)`). */
export const FLAG_OF: Partial<Record<SettingName, string>> = {
  CLOSER_OUT: '--out',
  CLOSER_FORMAT: '--format',
  CLOSER_LOOKBACK: '--lookback',
  CLOSER_FIRST_WINDOW: '--first-window',
  CLOSER_REDACTION_RULES: '--redaction-rules',
  CLOSER_DETECTION_RULES: '--rules',
};

export type FlagValues = Partial<Record<SettingName, string | undefined>>;

/**
 * Every setting from the environment, with flags (given by the CLI, keyed by the variable they
 * stand for) over it. Throws SettingError on the first one given wrong.
 */
export function readSettings(env: NodeJS.ProcessEnv, flags: FlagValues = {}): Settings {
  const input: Record<string, unknown> = {};
  for (const name of Object.keys(SettingsSchema.shape) as SettingName[]) {
    input[name] = flags[name] ?? env[name];
  }
  const parsed = SettingsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  const name = String(issue.path[0]) as SettingName;
  const flag = flags[name] !== undefined ? FLAG_OF[name] : undefined;
  const label = flag ? `${flag} (${name})` : name;
  const shown = SECRET.has(name) ? '' : ` ${JSON.stringify(input[name])}`;
  throw new SettingError(name, `${label}${shown}: ${issue.message}`);
}

/** The credentials the Lambda reads from Secrets Manager or SSM (the CLI: from CLOSER_ES_*). */
export interface EsCredentials {
  url?: string;
  apiKey?: string;
  username?: string;
  password?: string;
}

/**
 * Elasticsearch settings; null when none is configured (no URL, no Cloud ID). `stored`, the
 * Lambda's secret, stands in for the CLOSER_ES_* credentials and may carry the URL.
 */
export function esConfigOf(s: Settings, stored?: EsCredentials): EsConfig | null {
  const url = stored?.url ?? s.CLOSER_ES_URL;
  if (!url && !s.CLOSER_ES_CLOUD_ID) return null;
  const credentials = stored ?? {
    apiKey: s.CLOSER_ES_API_KEY,
    username: s.CLOSER_ES_USERNAME,
    password: s.CLOSER_ES_PASSWORD,
  };
  return {
    url,
    cloudId: s.CLOSER_ES_CLOUD_ID,
    apiKey: credentials.apiKey,
    username: credentials.username,
    password: credentials.password,
    index: s.CLOSER_ES_INDEX,
    caFile: s.CLOSER_ES_CA_FILE,
    compression: s.CLOSER_ES_COMPRESSION,
    server: s.CLOSER_ES_SERVER,
  };
}
