import {
  CoreApp,
  DataSourceApi,
  LoadingState,
  type DataFrame,
  type DataQueryError,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataSourceInstanceSettings,
  type TestDataSourceResponse,
  type TimeRange,
} from '@grafana/data';
import { getBackendSrv, getTemplateSrv, type FetchError } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import { annotationSupport } from './annotations.js';
import { toDataFrames } from './frames.js';
import { interpolateFilters, isRunnable, toApiQuery } from './request.js';
import { checkStatus, isStatusQuery, mergeResponses, statusFrames } from './status.js';
import {
  ROUTES,
  type CatalogResponse,
  type Filters,
  type HealthResponse,
  type QueryResponse,
  type Route,
  type VariableKind,
  type VariablesRequest,
  type VariablesResponse,
} from '../../shared/api/contract.js';
import type { CloserFilters, CloserOptions, CloserQuery } from './types.js';
import { CloserVariableSupport } from './variables.js';

/** The plugin.json route the data proxy forwards to the API, adding the bearer token. */
const PROXY_ROUTE = 'api';

export class CloserDataSource extends DataSourceApi<CloserQuery, CloserOptions> {
  /** The data proxy's URL for this data source (`/api/datasources/proxy/uid/<uid>`). */
  readonly url: string;
  readonly apiUrl: string | undefined;
  readonly defaultLimit: number | undefined;

  constructor(instanceSettings: DataSourceInstanceSettings<CloserOptions>) {
    super(instanceSettings);
    this.url = instanceSettings.url ?? '';
    this.apiUrl = instanceSettings.jsonData?.apiUrl?.trim() || undefined;
    const limit = Number(instanceSettings.jsonData?.defaultLimit);
    this.defaultLimit = Number.isInteger(limit) && limit > 0 ? limit : undefined;
    this.variables = new CloserVariableSupport(this);
    this.annotations = annotationSupport;
  }

  override getDefaultQuery(app: CoreApp): Partial<CloserQuery> {
    return app === CoreApp.Explore ? { type: 'events' } : { type: 'timeseries' };
  }

  override filterQuery(query: CloserQuery): boolean {
    return isRunnable(query);
  }

  /** Panel targets for the API, e.g. for Explore's "query inspector" and for tests. */
  applyTemplateVariables(query: CloserQuery, scopedVars: DataQueryRequest['scopedVars']): CloserQuery {
    return { ...query, filters: interpolateFilters(query.filters, getTemplateSrv(), scopedVars) };
  }

  async query(request: DataQueryRequest<CloserQuery>): Promise<DataQueryResponse> {
    // Status targets (Data health) are answered from GET /status; the others as before.
    const status = request.targets.filter((t) => isRunnable(t) && isStatusQuery(t));
    if (status.length) {
      const rest = request.targets.filter((t) => !isStatusQuery(t));
      return mergeResponses(
        await Promise.all([this.statusQuery(request, status), this.query({ ...request, targets: rest })]),
      );
    }
    const targets = request.targets.filter(isRunnable);
    if (!targets.length) return { data: [] };
    const templateSrv = getTemplateSrv();
    const body = {
      range: { from: request.range.from.toISOString(), to: request.range.to.toISOString() },
      intervalMs: request.intervalMs,
      maxDataPoints: request.maxDataPoints,
      queries: targets.map((t) =>
        toApiQuery(t, templateSrv, request.scopedVars, { limit: this.defaultLimit }),
      ),
    };
    let response: QueryResponse;
    try {
      response = await this.post<QueryResponse>(ROUTES.query, body, request.requestId);
    } catch (err) {
      // The whole request failed (token, network, proxy): every query shows why.
      const error = describeFetchError(err, this.apiUrl);
      return {
        data: [],
        state: LoadingState.Error,
        error: { message: error.message, status: error.status },
        errors: targets.map((t) => ({ refId: t.refId, message: error.message, status: error.status })),
      };
    }
    const logs = request.app === CoreApp.Explore;
    const data: DataFrame[] = [];
    const errors: DataQueryError[] = [];
    for (const t of targets) {
      const result = response.results?.[t.refId];
      if (!result) {
        errors.push({ refId: t.refId, message: 'the query API returned no result for this query' });
        continue;
      }
      if (result.error) {
        errors.push({ refId: t.refId, message: result.error, status: result.status });
        continue;
      }
      data.push(...toDataFrames(result.frames ?? [], t.refId, { logs }));
    }
    return errors.length
      ? { data, errors, error: errors[0], state: LoadingState.Error }
      : { data, state: LoadingState.Done };
  }

  /** Status targets: one GET /status for the panel's range, a frame per target. */
  private async statusQuery(
    request: DataQueryRequest<CloserQuery>,
    targets: CloserQuery[],
  ): Promise<DataQueryResponse> {
    try {
      const status = checkStatus(
        await this.get<unknown>(ROUTES.status, {
          from: request.range.from.toISOString(),
          to: request.range.to.toISOString(),
        }),
      );
      return { data: targets.flatMap((t) => statusFrames(status, t)), state: LoadingState.Done };
    } catch (err) {
      const error = isFetchError(err)
        ? describeFetchError(err, this.apiUrl, 'status')
        : { message: err instanceof Error ? err.message : String(err) };
      const errors = targets.map((t) => ({ refId: t.refId, ...error }));
      return { data: [], errors, error: errors[0], state: LoadingState.Error };
    }
  }

  /** Values for a template variable: POST /variables. */
  async variableValues(
    variable: VariableKind,
    range: TimeRange | undefined,
    filters?: CloserFilters,
    scopedVars?: DataQueryRequest['scopedVars'],
  ): Promise<Array<{ text: string; value: string }>> {
    const now = Date.now();
    const body: VariablesRequest = {
      variable,
      range: range
        ? { from: range.from.toISOString(), to: range.to.toISOString() }
        : { from: new Date(now - 86_400_000).toISOString(), to: new Date(now).toISOString() },
    };
    const f = interpolateFilters(filters, getTemplateSrv(), scopedVars);
    // Template variables are in; whether each value is valid (a status, an IP) the API says.
    if (f) body.filters = f as Filters;
    const response = await this.post<VariablesResponse>(ROUTES.variables, body);
    return response.values ?? [];
  }

  async testDatasource(): Promise<TestDataSourceResponse> {
    if (!this.apiUrl) {
      return {
        status: 'error',
        message:
          "Set the API URL: the local `closer-audit serve` address (e.g. http://localhost:8787) or the stack's QueryApiUrl output.",
      };
    }
    let engine = '';
    try {
      const health = await this.get<Partial<HealthResponse>>(ROUTES.health);
      if (health?.status !== 'ok') {
        return {
          status: 'error',
          message: `${this.apiUrl}/health answered, but not as the closer-audit query API does: check the URL.`,
        };
      }
      engine = health.engine ?? '';
    } catch (err) {
      return { status: 'error', message: describeFetchError(err, this.apiUrl, ROUTES.health).message };
    }
    try {
      // /health needs no token; /catalog does, so this checks the token.
      const catalog = await this.get<Partial<CatalogResponse>>(ROUTES.catalog);
      const actions = Array.isArray(catalog?.actions) ? catalog.actions.length : 0;
      return {
        status: 'success',
        message: `Connected to the closer-audit query API (${engine || 'unknown engine'}); the token is accepted; ${actions} actions in the catalog.`,
      };
    } catch (err) {
      return { status: 'error', message: describeFetchError(err, this.apiUrl, ROUTES.catalog).message };
    }
  }

  private async get<T>(path: Route, params?: Record<string, string>): Promise<T> {
    const res = await lastValueFrom(
      getBackendSrv().fetch<T>({
        url: `${this.url}/${PROXY_ROUTE}/${path}`,
        method: 'GET',
        ...(params ? { params } : {}),
        showErrorAlert: false,
        showSuccessAlert: false,
      }),
    );
    return res.data;
  }

  private async post<T>(path: Route, data: unknown, requestId?: string): Promise<T> {
    const res = await lastValueFrom(
      getBackendSrv().fetch<T>({
        url: `${this.url}/${PROXY_ROUTE}/${path}`,
        method: 'POST',
        data,
        headers: { 'Content-Type': 'application/json' },
        showErrorAlert: false,
        showSuccessAlert: false,
        ...(requestId ? { requestId } : {}),
      }),
    );
    return res.data;
  }
}

function isFetchError(err: unknown): err is FetchError {
  return typeof err === 'object' && err !== null && 'status' in err && 'data' in err;
}

/** What went wrong, in the words the user needs: unreachable, wrong URL, wrong token, or the API's own. */
function describeFetchError(
  err: unknown,
  apiUrl: string | undefined,
  path?: string,
): { message: string; status?: number } {
  const where = apiUrl ?? 'the configured API URL';
  if (!isFetchError(err)) {
    return {
      message: `Request to the query API failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const status = err.status;
  const data = err.data as { error?: unknown; message?: unknown } | string | undefined;
  const detail =
    typeof data === 'string'
      ? data
      : typeof data?.error === 'string'
        ? data.error
        : typeof data?.message === 'string'
          ? data.message
          : err.statusText || '';
  if (status === 401 || status === 403) {
    return {
      status,
      message: `The query API refused the token (${status}${detail ? `: ${detail}` : ''}). Set the token \`closer-audit serve\` was started with (CLOSER_API_TOKEN), or in AWS the secret behind ApiTokenSecretArn.`,
    };
  }
  if (status === 404) {
    return {
      status,
      message: `Not found (404) at ${where}${path ? `/${path}` : ''}: the URL is not the query API's root. Use the address \`closer-audit serve\` prints, or the stack's QueryApiUrl output.`,
    };
  }
  if (status === 502 || !status || status <= 0) {
    return {
      ...(status ? { status } : {}),
      message: `Cannot reach the query API at ${where}${detail ? ` (${detail})` : ''}: is it running, and reachable from the Grafana server?`,
    };
  }
  return { status, message: detail ? `Query API error ${status}: ${detail}` : `Query API error ${status}` };
}
