import { CustomVariableSupport, type DataQueryRequest, type DataQueryResponse } from '@grafana/data';
import { from, map, type Observable } from 'rxjs';
import { VariableQueryEditor } from './components/VariableQueryEditor.js';
import type { CloserDataSource } from './datasource.js';
import type { CloserVariableQuery } from './types.js';

/**
 * Template variables through POST /variables: `{"variable": "users"}` lists the users seen in
 * the dashboard's time range (actions and areas: the whole catalog as well).
 */
export class CloserVariableSupport extends CustomVariableSupport<CloserDataSource, CloserVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: CloserDataSource) {
    super();
  }

  query(request: DataQueryRequest<CloserVariableQuery>): Observable<DataQueryResponse> {
    const target = request.targets[0];
    const variable = target?.variable;
    if (!variable) return from(Promise.resolve({ data: [] }));
    return from(
      this.datasource.variableValues(variable, request.range, target.filters, request.scopedVars),
    ).pipe(map((values) => ({ data: values })));
  }
}
