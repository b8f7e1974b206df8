import { errors } from '@elastic/elasticsearch';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Only errors the server certainly did not act on (429, 503): for non-idempotent calls. */
  onlyRejected?: boolean;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function retryReason(err: unknown, onlyRejected = false): string | null {
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    if (status === 429 || status === 503) return `HTTP ${status}`;
    if (!onlyRejected && status >= 500) return `HTTP ${status}`;
    return null;
  }
  if (onlyRejected) return null;
  if (err instanceof errors.TimeoutError) return 'timeout';
  if (err instanceof errors.ConnectionError) return `connection error (${err.message})`;
  return null;
}

/** Calls fn, retrying transient Elasticsearch failures with exponential backoff and full jitter. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const reason = retryReason(err, options.onlyRejected);
      if (reason === null || attempt >= attempts) throw err;
      const retryAfter = retryAfterMs(err);
      const delayMs = retryAfter ?? Math.round(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
      options.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs);
    }
  }
}

function retryAfterMs(err: unknown): number | null {
  if (!(err instanceof errors.ResponseError)) return null;
  const header = err.meta.headers?.['retry-after'];
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, 60_000) : null;
}
