import { DataSourcePlugin } from '@grafana/data';
import { ConfigEditor } from './components/ConfigEditor.js';
import { QueryEditor } from './components/QueryEditor.js';
import { CloserDataSource } from './datasource.js';
import type { CloserOptions, CloserQuery, CloserSecureOptions } from './types.js';

export const plugin = new DataSourcePlugin<CloserDataSource, CloserQuery, CloserOptions, CloserSecureOptions>(
  CloserDataSource,
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
