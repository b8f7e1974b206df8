import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type QueryExecution,
  type Row,
} from '@aws-sdk/client-athena';
import { QueryTimeoutError } from '../../engine.js';
import { reuseKey } from './literals.js';

const PAGE_SIZE = 1000;

export interface StartOptions {
  sql: string;
  /** Athena literals, one per `?`. */
  values: string[];
  workGroup: string;
  catalog: string;
  database: string;
  /** Reuse a result of the same query this young; 0 disables. */
  reuseMinutes: number;
}

export interface PollOptions {
  /** Poll backoff: first wait, cap (x1.5 each time). */
  initialMs: number;
  maxMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Athena's query lifecycle over its API: start, poll with backoff until the query ends, stop it
 * when the caller goes away or the time limit passes, and read the result page by page.
 */
export class AthenaQueries {
  constructor(private readonly client: AthenaClient) {}

  /** Starts the query; its execution id. */
  async start(o: StartOptions): Promise<string> {
    const reuse = o.reuseMinutes > 0;
    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: reuse && o.values.length ? `${reuseKey(o.values)}\n${o.sql}` : o.sql,
        WorkGroup: o.workGroup,
        QueryExecutionContext: { Catalog: o.catalog, Database: o.database },
        // The API refuses an empty list: a query without values sends none.
        ExecutionParameters: o.values.length ? o.values : undefined,
        ResultReuseConfiguration: reuse
          ? { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: o.reuseMinutes } }
          : undefined,
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error('Athena started no query (no QueryExecutionId)');
    return id;
  }

  /** Polls with backoff until the query ends; stops it on abort or timeout. */
  async wait(id: string, o: PollOptions): Promise<QueryExecution> {
    const { signal } = o;
    const deadline = o.timeoutMs !== undefined ? o.now() + o.timeoutMs : Infinity;
    const aborted = abortPromise(signal);
    try {
      let delay = o.initialMs;
      for (;;) {
        const out = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        const execution = out.QueryExecution ?? {};
        const status = execution.Status ?? {};
        if (status.State === 'SUCCEEDED') return execution;
        if (status.State === 'FAILED') {
          const reason = status.StateChangeReason ?? 'no reason given';
          const detail = status.AthenaError?.ErrorMessage;
          throw new Error(
            `Athena query ${id} failed: ${reason}${detail && detail !== reason ? ` (${detail})` : ''}`,
          );
        }
        if (status.State === 'CANCELLED') {
          const reason = status.StateChangeReason;
          throw new Error(`Athena query ${id} was cancelled${reason ? `: ${reason}` : ''}`);
        }
        const left = deadline - o.now();
        if (signal?.aborted || left <= 0) return await this.stop(id, signal?.aborted ? null : o.timeoutMs!);
        await Promise.race([o.sleep(Math.min(delay, left)), aborted.promise]);
        if (signal?.aborted || o.now() >= deadline)
          return await this.stop(id, signal?.aborted ? null : o.timeoutMs!);
        delay = Math.min(delay * 1.5, o.maxMs);
      }
    } finally {
      aborted.dispose();
    }
  }

  /** Stops the query (best effort: the caller's error matters more), then throws. */
  private async stop(id: string, timeoutMs: number | null): Promise<never> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    } catch {
      // Already ended, or not allowed: either way there is nothing more to stop.
    }
    throw timeoutMs === null ? abortError() : new QueryTimeoutError(timeoutMs);
  }

  /** The result's pages, in order; stops asking when the caller stops reading. */
  async *pages(id: string, signal?: AbortSignal): AsyncGenerator<{ columns?: ColumnInfo[]; rows: Row[] }> {
    let token: string | undefined;
    do {
      if (signal?.aborted) throw abortError();
      const page = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: PAGE_SIZE, NextToken: token }),
      );
      yield { columns: page.ResultSet?.ResultSetMetadata?.ColumnInfo, rows: page.ResultSet?.Rows ?? [] };
      token = page.NextToken;
    } while (token);
  }
}

export function abortError(): Error {
  const err = new Error('query cancelled: the caller went away');
  err.name = 'AbortError';
  return err;
}

/** Resolves when the signal aborts, so a poll wait ends at once; dispose() drops the listener. */
function abortPromise(signal: AbortSignal | undefined): { promise: Promise<void>; dispose: () => void } {
  if (!signal) return { promise: new Promise<void>(() => {}), dispose: () => {} };
  let listener = () => {};
  const promise = new Promise<void>((resolve) => {
    listener = () => resolve();
    signal.addEventListener('abort', listener, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', listener) };
}
