import React, { useRef, useState } from 'react';
import { CodeEditor, InlineField, InlineFieldRow, TextArea } from '@grafana/ui';
import { MACROS } from '../../../../shared/api/contract.js';
import { LABEL_WIDTH, type PartProps } from './common.js';

export const SQL_EXAMPLE =
  "SELECT $__timeGroup(ts, 1h) AS time, count(*) AS logins\nFROM $__table\nWHERE $__timeFilter(ts) AND action = 'agent_login'\nGROUP BY 1 ORDER BY 1";

const LABEL = 'SQL query';

/**
 * Whether Grafana's code editor can start here. Monaco (0.34, what Grafana 10.4–13 ship) calls
 * document.queryCommandSupported when it loads; jsdom, where the plugin's unit tests render the
 * editor, has no such function (and Monaco's package has no CommonJS entry for jest to load),
 * so there a plain text area edits the SQL. Every browser has it: Grafana shows the code editor.
 */
export function codeEditorLoads(): boolean {
  return typeof document !== 'undefined' && typeof document.queryCommandSupported === 'function';
}

/** Raw SQL in Grafana's code editor, applied on blur, with the API's macros listed below. */
export function SqlEditor({ query, update }: PartProps) {
  const sql = query.sql ?? '';
  // Until Monaco has mounted, CodeEditor's blur reports an empty text: that is not the user's.
  const mounted = useRef(false);
  const apply = (next: string) => {
    if (next !== query.sql) update({ sql: next });
  };
  return (
    <>
      <InlineFieldRow>
        <InlineField
          label="SQL"
          labelWidth={LABEL_WIDTH}
          grow
          tooltip="One read-only SELECT, with the $__ macros listed below. Template variables become quoted SQL literals: user_id IN ($user), not '$user'."
        >
          {codeEditorLoads() ? (
            <div style={{ width: '100%' }} data-testid="closer-sql-editor">
              <CodeEditor
                language="sql"
                value={sql}
                height={160}
                showLineNumbers
                showMiniMap={false}
                monacoOptions={{ ariaLabel: LABEL }}
                onEditorDidMount={() => {
                  mounted.current = true;
                }}
                onBlur={(text) => {
                  if (mounted.current) apply(text);
                }}
              />
            </div>
          ) : (
            <PlainSql sql={sql} apply={apply} />
          )}
        </InlineField>
      </InlineFieldRow>
      <table aria-label="SQL macros" style={{ fontSize: 12, marginBottom: 8 }}>
        <tbody>
          {MACROS.map((m) => (
            <tr key={m.name}>
              <td style={{ paddingRight: 16 }}>
                <code>{m.usage}</code>
              </td>
              <td>{m.meaning}</td>
            </tr>
          ))}
          <tr>
            <td style={{ paddingRight: 16 }}>
              <code>$user, $action, ...</code>
            </td>
            <td>dashboard variables, as quoted values: write user_id IN ($user)</td>
          </tr>
        </tbody>
      </table>
    </>
  );
}

/** Where Monaco cannot start (see codeEditorLoads). */
function PlainSql({ sql, apply }: { sql: string; apply: (sql: string) => void }) {
  const [text, setText] = useState(sql);
  return (
    <TextArea
      aria-label={LABEL}
      rows={8}
      style={{ fontFamily: 'monospace' }}
      value={text}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={() => apply(text)}
    />
  );
}
