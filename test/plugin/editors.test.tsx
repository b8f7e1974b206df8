import React from 'react';
import { describe, expect, it, jest } from '@jest/globals';
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { LoadingState, toDataFrame, type DataSourceSettings, type PanelData } from '@grafana/data';
import { FILTER_KEYS, MACROS, VARIABLES } from '../../shared/api/contract.js';
import { ACTIONS, AREAS } from '../../shared/catalog/actions.js';
import { ConfigEditor } from '../../plugin/src/components/ConfigEditor.js';
import { QueryEditor } from '../../plugin/src/components/QueryEditor.js';
import { FILTER_LABELS } from '../../plugin/src/components/query/FiltersEditor.js';
import { codeEditorLoads } from '../../plugin/src/components/query/SqlEditor.js';
import { VariableQueryEditor } from '../../plugin/src/components/VariableQueryEditor.js';
import type {
  CloserOptions,
  CloserQuery,
  CloserSecureOptions,
  CloserVariableQuery,
} from '../../plugin/src/types.js';
import { makeDataSource } from './support/grafana.js';
import { menuOptions } from './support/select.js';

type Settings = DataSourceSettings<CloserOptions, CloserSecureOptions>;

function settings(over: Partial<Settings> = {}): Settings {
  return {
    id: 1,
    uid: 'closer-audit',
    orgId: 1,
    name: 'Closer audit',
    type: 'closer-audit-datasource',
    typeName: 'Closer audit',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    jsonData: {},
    secureJsonFields: {},
    readOnly: false,
    withCredentials: false,
    ...over,
  } as Settings;
}

describe('ConfigEditor', () => {
  it('stores the API URL in jsonData.apiUrl (what the route reads) and as the URL', () => {
    const onOptionsChange = jest.fn();
    render(<ConfigEditor options={settings()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('API URL'), { target: { value: 'http://localhost:8787 ' } });
    const next = onOptionsChange.mock.calls.at(-1)?.[0] as Settings;
    expect(next.jsonData.apiUrl).toBe('http://localhost:8787');
    expect(next.url).toBe('http://localhost:8787');
  });

  it('takes the token as a secret, and shows a stored one as configured with a reset', () => {
    const onOptionsChange = jest.fn();
    const { rerender } = render(<ConfigEditor options={settings()} onOptionsChange={onOptionsChange} />);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: 's3cret' } });
    expect((onOptionsChange.mock.calls.at(-1)?.[0] as Settings).secureJsonData).toEqual({
      apiToken: 's3cret',
    });

    rerender(
      <ConfigEditor
        options={settings({ secureJsonFields: { apiToken: true } })}
        onOptionsChange={onOptionsChange}
      />,
    );
    expect(screen.getByLabelText('API token')).toHaveValue('configured');
    expect(screen.getByLabelText('API token')).toBeDisabled();
    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    const reset = onOptionsChange.mock.calls.at(-1)?.[0] as Settings;
    expect(reset.secureJsonFields.apiToken).toBe(false);
    expect(reset.secureJsonData?.apiToken).toBe('');
  });

  it('keeps a default row limit as a number', () => {
    const onOptionsChange = jest.fn();
    render(
      <ConfigEditor
        options={settings({ jsonData: { apiUrl: 'http://x' } })}
        onOptionsChange={onOptionsChange}
      />,
    );
    fireEvent.change(screen.getByLabelText('Default row limit'), { target: { value: '250' } });
    expect((onOptionsChange.mock.calls.at(-1)?.[0] as Settings).jsonData).toEqual({
      apiUrl: 'http://x',
      defaultLimit: 250,
    });
  });
});

function renderQueryEditor(query: CloserQuery, data?: PanelData) {
  const onChange = jest.fn<(q: CloserQuery) => void>();
  const onRunQuery = jest.fn();
  const datasource = makeDataSource({ apiUrl: 'http://x', defaultLimit: 300 });
  const utils = render(
    <QueryEditor
      query={query}
      onChange={onChange}
      onRunQuery={onRunQuery}
      datasource={datasource}
      {...(data ? { data } : {})}
    />,
  );
  const last = () => onChange.mock.calls.at(-1)?.[0] as CloserQuery;
  return { ...utils, onChange, onRunQuery, last };
}

describe('QueryEditor', () => {
  it('offers the query types, and switches', async () => {
    const { last, onRunQuery } = renderQueryEditor({ refId: 'A', type: 'events' });
    for (const t of ['Events', 'Time series', 'Top N', 'Stat', 'Raw SQL', 'Detections'])
      expect(screen.getByText(t)).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText('Top N'));
    expect(last()).toMatchObject({ refId: 'A', type: 'topn' });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers Data health (GET /status): the summary or per day, and none of the model’s filters', async () => {
    const { last, onRunQuery, rerender, onChange } = renderQueryEditor({ refId: 'A', type: 'events' });
    await userEvent.click(screen.getByLabelText('Data health'));
    expect(last()).toMatchObject({ refId: 'A', type: 'status' });
    rerender(
      <QueryEditor
        query={{ refId: 'A', type: 'status' }}
        onChange={onChange}
        onRunQuery={onRunQuery}
        datasource={makeDataSource({ apiUrl: 'http://x' })}
      />,
    );
    expect(screen.getByTestId('closer-status-editor')).toBeInTheDocument();
    expect(screen.queryByLabelText('Actions')).toBeNull();
    expect(screen.getByLabelText('Summary')).toBeChecked();
    await userEvent.click(screen.getByLabelText('Per day'));
    expect(last()).toEqual({ refId: 'A', type: 'status', statusView: 'days' });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('builds the action picker from the shared catalog: grouped by area, each with its description', async () => {
    const { last } = renderQueryEditor({ refId: 'A', type: 'events' });
    await userEvent.click(screen.getByLabelText('Actions'));
    // Every area of the catalog is a group heading, every action an option with its description.
    for (const label of Object.values(AREAS)) expect(screen.getAllByText(label).length).toBeGreaterThan(0);
    const login = ACTIONS.find((a) => a.action === 'agent_login')!;
    expect(screen.getByText(login.action)).toBeInTheDocument();
    expect(screen.getByText(login.description)).toBeInTheDocument();
    const options = menuOptions();
    expect(options.length).toBe(ACTIONS.length);
    await userEvent.click(screen.getByText('agent_login'));
    expect(last().filters).toEqual({ actions: ['agent_login'] });
  });

  it('shows variables and unknown actions already in the filter, and removes one', async () => {
    const { last, container } = renderQueryEditor({
      refId: 'A',
      type: 'stat',
      filters: { actions: ['$action', 'agent_login'], userIds: ['$user'] },
    });
    expect(screen.getByText('$action')).toBeInTheDocument();
    expect(screen.getByText('$user')).toBeInTheDocument();
    const remove = container.querySelectorAll('[aria-label="Remove"]');
    expect(remove.length).toBeGreaterThan(0);
    await userEvent.click(remove[0] as Element);
    expect(last().filters?.actions).toEqual(['agent_login']);
  });

  it('edits the model’s filters: users, IPs/CIDRs, statuses, text filters, known action', async () => {
    const { last, rerender } = renderQueryEditor({ refId: 'A', type: 'stat' });
    await userEvent.type(screen.getByPlaceholderText('user id, Enter'), 'u1{enter}');
    expect(last().filters).toEqual({ userIds: ['u1'] });
    await userEvent.type(screen.getByPlaceholderText('10.0.0.0/8, Enter'), '185.220.0.0/16{enter}');
    expect(last().filters?.sourceIps).toEqual(['185.220.0.0/16']);
    await userEvent.type(screen.getByPlaceholderText('4xx, 500, Enter'), '4xx{enter}');
    expect(last().filters?.statuses).toEqual(['4xx']);
    const body = screen.getByLabelText('Body contains');
    await userEvent.type(body, 'admin');
    fireEvent.blur(body);
    expect(last().filters?.bodyContains).toBe('admin');
    await userEvent.click(screen.getByLabelText('Not in the catalog'));
    expect(last().filters?.knownAction).toBe(false);
    expect(screen.getByLabelText('Areas')).toBeInTheDocument();
    expect(screen.getByLabelText('Outcomes')).toBeInTheDocument();
    expect(screen.getByLabelText('HTTP methods')).toBeInTheDocument();
    expect(screen.getByLabelText('Roles')).toBeInTheDocument();
    expect(screen.getByLabelText('Resource types')).toBeInTheDocument();
    expect(screen.getByLabelText('Resource ids')).toBeInTheDocument();
    expect(screen.getByLabelText('URL contains')).toBeInTheDocument();
    expect(screen.getByLabelText('Path contains')).toBeInTheDocument();
    rerender(<></>);
  });

  it('has the type’s own options: split by and interval; group-by field and limit; events limit', async () => {
    const ts = renderQueryEditor({ refId: 'A', type: 'timeseries' });
    await userEvent.click(screen.getByLabelText('Split by'));
    await userEvent.click(screen.getByText('Outcome'));
    expect(ts.last().splitBy).toBe('outcome');
    const interval = screen.getByLabelText('Interval');
    await userEvent.type(interval, '1h');
    fireEvent.blur(interval);
    expect(ts.last().interval).toBe('1h');
    ts.unmount();

    const ev = renderQueryEditor({ refId: 'A', type: 'events' });
    const limit = screen.getByLabelText('Limit');
    expect(limit).toHaveAttribute('placeholder', '300');
    await userEvent.type(limit, '50');
    fireEvent.blur(limit);
    expect(ev.last().limit).toBe(50);
  });

  it('edits a detections query: what to show, rules and severities, split and interval', async () => {
    const d = renderQueryEditor({ refId: 'A', type: 'detections' });
    expect(screen.queryByLabelText('Actions')).not.toBeInTheDocument();
    expect(screen.getByLabelText('Alerts')).toBeChecked();
    await userEvent.click(screen.getByLabelText('Over time'));
    expect(d.last()).toMatchObject({ type: 'detections', format: 'timeseries', splitBy: 'rule' });
    d.unmount();

    const ts = renderQueryEditor({ refId: 'A', type: 'detections', format: 'timeseries', splitBy: 'rule' });
    await userEvent.click(screen.getByLabelText('Severity'));
    expect(ts.last().splitBy).toBe('severity');
    ts.unmount();

    const rules = renderQueryEditor({ refId: 'A', type: 'detections', severities: ['high'] });
    expect(screen.getByText('high')).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText('Rules'));
    await userEvent.click(screen.getByText('password-spraying'));
    expect(rules.last()).toMatchObject({ rules: ['password-spraying'], severities: ['high'] });
  });

  it('switches to raw SQL: an example query and the macros documented inline; nothing else of the model', async () => {
    const { last, rerender, onChange, onRunQuery } = renderQueryEditor({ refId: 'A', type: 'events' });
    await userEvent.click(screen.getByLabelText('Raw SQL'));
    const q = last();
    expect(q.type).toBe('sql');
    expect(q.sql).toContain('$__timeFilter(ts)');
    rerender(
      <QueryEditor
        query={q}
        onChange={onChange}
        onRunQuery={onRunQuery}
        datasource={makeDataSource({ apiUrl: 'http://x' })}
      />,
    );
    const sql = screen.getByLabelText('SQL query');
    expect(sql).toHaveValue(q.sql);
    // The help lists the API contract's macros, each with what it means.
    const macros = screen.getByRole('table', { name: 'SQL macros' });
    for (const m of MACROS) {
      expect(within(macros).getByText(m.usage)).toBeInTheDocument();
      expect(within(macros).getByText(m.meaning)).toBeInTheDocument();
    }
    expect(screen.queryByLabelText('Actions')).toBeNull();
    // jsdom cannot start Monaco (no document.queryCommandSupported; the browser test runs the
    // code editor in Chromium): here the SQL is a plain text area, edited the same way.
    expect(codeEditorLoads()).toBe(false);
    fireEvent.change(sql, { target: { value: 'SELECT count(*) FROM $__table WHERE $__timeFilter(ts)' } });
    fireEvent.blur(sql);
    expect(last().sql).toBe('SELECT count(*) FROM $__table WHERE $__timeFilter(ts)');
  });

  it('shows the SQL the API ran and the bytes it scanned', () => {
    const frame = toDataFrame({
      refId: 'A',
      fields: [{ name: 'value', values: [3] }],
      meta: {
        executedQueryString: 'SELECT count(*) FROM closer_audit.events WHERE dt BETWEEN ? AND ?',
        custom: { bytesScanned: 5 * 1024 * 1024 },
      },
    });
    const data = { series: [frame], state: LoadingState.Done, timeRange: {} } as unknown as PanelData;
    renderQueryEditor({ refId: 'A', type: 'stat' }, data);
    expect(screen.getByText('Bytes scanned: 5.00 MiB')).toBeInTheDocument();
    expect(screen.getByText(/SELECT count\(\*\) FROM closer_audit.events/)).toBeInTheDocument();
  });
});

describe('the editors follow the API contract (shared/api/contract.ts)', () => {
  it('the filters editor has a field for every filter of the contract', () => {
    expect(Object.keys(FILTER_LABELS).sort()).toEqual([...FILTER_KEYS].sort());
    renderQueryEditor({ refId: 'A', type: 'events' });
    for (const key of FILTER_KEYS) {
      const label = FILTER_LABELS[key];
      expect({
        key,
        shown: screen.queryAllByText(label).length + screen.queryAllByLabelText(label).length > 0,
      }).toEqual({
        key,
        shown: true,
      });
    }
  });
});

describe('VariableQueryEditor', () => {
  it('picks which values the variable lists', async () => {
    const onChange = jest.fn<(q: CloserVariableQuery) => void>();
    render(
      <VariableQueryEditor
        query={{ refId: 'variable' } as never}
        onChange={onChange as never}
        onRunQuery={() => {}}
        datasource={makeDataSource()}
      />,
    );
    await userEvent.click(screen.getByLabelText('Variable values'));
    // Every kind the API lists (the contract's VARIABLES), and nothing else.
    for (const v of Object.values(VARIABLES)) expect(screen.getByText(v.label)).toBeInTheDocument();
    expect(menuOptions().length).toBe(Object.keys(VARIABLES).length);
    await userEvent.click(screen.getByText('Users'));
    expect(onChange.mock.calls.at(-1)?.[0]).toMatchObject({ variable: 'users' });
  });
});
