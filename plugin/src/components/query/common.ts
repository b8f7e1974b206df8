import type { FocusEvent } from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import type { CloserDataSource } from '../../datasource.js';
import type { CloserOptions, CloserQuery } from '../../types.js';

export type Props = QueryEditorProps<CloserDataSource, CloserQuery, CloserOptions>;

/** What a part of the editor gets: the query, a way to change it (and run it), and element ids. */
export interface PartProps {
  query: CloserQuery;
  /** Merges the patch into the query; runs it unless `run` is false. */
  update: (patch: Partial<CloserQuery>, run?: boolean) => void;
  /** Element ids, unique per query row (a panel has several editors). */
  id: (name: string) => string;
}

export const LABEL_WIDTH = 18;

export const asOptions = (list: Array<string | number> | undefined): Array<SelectableValue<string>> =>
  (list ?? []).map((v) => ({ label: String(v), value: String(v) }));

/** A whole number typed into a field, applied on blur; empty clears it. */
export function onNumberBlur(
  props: PartProps,
  key: 'limit' | 'maxSeries',
): (e: FocusEvent<HTMLInputElement>) => void {
  return (e) => {
    const raw = e.currentTarget.value.trim();
    const n = raw === '' ? undefined : Math.trunc(Number(raw));
    if (n !== props.query[key] && (n === undefined || Number.isFinite(n))) props.update({ [key]: n });
  };
}
