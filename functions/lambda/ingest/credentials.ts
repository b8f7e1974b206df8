import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { esCompressionFromEnv, type EsConfig } from '../../sources/elasticsearch/config.js';

// Warm invocations reuse the credentials for this long before asking again.
const CACHE_SECONDS = 900;

/** What the secret (or SecureString parameter) holds: JSON, or a bare API key. */
export interface EsSecret {
  url?: string;
  apiKey?: string;
  username?: string;
  password?: string;
}

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
  const s = json as Record<string, unknown>;
  const pick = (k: string) => (typeof s[k] === 'string' && s[k] !== '' ? (s[k] as string) : undefined);
  const secret = {
    url: pick('url'),
    apiKey: pick('apiKey'),
    username: pick('username'),
    password: pick('password'),
  };
  if (!secret.apiKey && !secret.username) {
    throw new Error('the Elasticsearch secret has neither apiKey nor username/password');
  }
  return secret;
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
 * Elasticsearch settings for the Lambda: URL and index from the environment, credentials from
 * Secrets Manager (CLOSER_ES_SECRET_ID) or SSM Parameter Store (CLOSER_ES_SSM_PARAMETER).
 */
export async function esConfigForLambda(
  env: NodeJS.ProcessEnv,
  fetchers: CredentialFetchers = awsFetchers,
): Promise<EsConfig> {
  let secret: EsSecret = {};
  if (env.CLOSER_ES_SECRET_ID) {
    const raw = await fetchers.secret(env.CLOSER_ES_SECRET_ID);
    if (!raw) throw new Error(`secret ${env.CLOSER_ES_SECRET_ID} is empty`);
    secret = parseEsSecret(raw);
  } else if (env.CLOSER_ES_SSM_PARAMETER) {
    const raw = await fetchers.parameter(env.CLOSER_ES_SSM_PARAMETER);
    if (!raw) throw new Error(`parameter ${env.CLOSER_ES_SSM_PARAMETER} is empty`);
    secret = parseEsSecret(raw);
  }
  const url = secret.url ?? env.CLOSER_ES_URL;
  if (!url) throw new Error('no Elasticsearch URL: set CLOSER_ES_URL or put url in the secret');
  return {
    url,
    index: env.CLOSER_ES_INDEX || 'closer',
    apiKey: secret.apiKey,
    username: secret.username,
    password: secret.password,
    compression: esCompressionFromEnv(env),
    server: env.CLOSER_ES_SERVER || undefined,
  };
}
