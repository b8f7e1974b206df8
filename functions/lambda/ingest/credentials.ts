import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { z } from 'zod';
import { esConfigOf, readSettings, type EsCredentials } from '../../config/settings.js';
import type { EsConfig } from '../../sources/elasticsearch/config.js';

// Warm invocations reuse the credentials for this long before asking again.
const CACHE_SECONDS = 900;

/** What the secret (or SecureString parameter) holds: JSON, or a bare API key. */
export type EsSecret = EsCredentials;

// Blank strings count as absent; other fields (a description, a rotation date) are ignored.
const field = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const EsSecretSchema = z
  .object({ url: field, apiKey: field, username: field, password: field })
  .refine((s) => s.apiKey !== undefined || s.username !== undefined, {
    message: 'the Elasticsearch secret has neither apiKey nor username/password',
  });

export function parseEsSecret(raw: string): EsSecret {
  const text = raw.trim();
  if (!text.startsWith('{')) return { apiKey: text };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Never echo the value: it is a credential.
    throw new Error('the Elasticsearch secret is neither JSON nor a bare API key');
  }
  const parsed = EsSecretSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The field at fault and what is wrong with it, never its value.
    const where = issue?.path.length ? `field ${issue.path.join('.')} of the Elasticsearch secret: ` : '';
    throw new Error(`${where}${issue?.message ?? 'invalid'}`);
  }
  const { url, apiKey, username, password } = parsed.data;
  return { url, apiKey, username, password };
}

export interface CredentialFetchers {
  secret: (id: string) => Promise<string | undefined>;
  parameter: (name: string) => Promise<string | undefined>;
}

const awsFetchers: CredentialFetchers = {
  secret: async (id) => (await getSecret(id, { maxAge: CACHE_SECONDS })) as string | undefined,
  parameter: (name) => getParameter(name, { decrypt: true, maxAge: CACHE_SECONDS }),
};

/**
 * Elasticsearch settings for the Lambda: URL and index from the settings, credentials from
 * Secrets Manager (CLOSER_ES_SECRET_ID) or SSM Parameter Store (CLOSER_ES_SSM_PARAMETER).
 */
export async function esConfigForLambda(
  env: NodeJS.ProcessEnv,
  fetchers: CredentialFetchers = awsFetchers,
): Promise<EsConfig> {
  const settings = readSettings(env);
  let secret: EsSecret | undefined;
  if (settings.CLOSER_ES_SECRET_ID) {
    const raw = await fetchers.secret(settings.CLOSER_ES_SECRET_ID);
    if (!raw) throw new Error(`secret ${settings.CLOSER_ES_SECRET_ID} is empty`);
    secret = parseEsSecret(raw);
  } else if (settings.CLOSER_ES_SSM_PARAMETER) {
    const raw = await fetchers.parameter(settings.CLOSER_ES_SSM_PARAMETER);
    if (!raw) throw new Error(`parameter ${settings.CLOSER_ES_SSM_PARAMETER} is empty`);
    secret = parseEsSecret(raw);
  }
  const config = esConfigOf(settings, secret ?? {});
  if (!config?.url) throw new Error('no Elasticsearch URL: set CLOSER_ES_URL or put url in the secret');
  return config;
}
