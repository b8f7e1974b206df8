import React, { type ChangeEvent } from 'react';
import type { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Field, FieldSet, Input, SecretInput } from '@grafana/ui';
import type { CloserOptions, CloserSecureOptions } from '../types.js';

type Props = DataSourcePluginOptionsEditorProps<CloserOptions, CloserSecureOptions>;

/** The data source's settings: where the query API is, its token, the default row limit. */
export function ConfigEditor({ options, onOptionsChange }: Props) {
  const { jsonData, secureJsonFields } = options;
  const secureJsonData = options.secureJsonData ?? {};

  const onApiUrl = (e: ChangeEvent<HTMLInputElement>) => {
    const apiUrl = e.currentTarget.value.trim();
    // The route in plugin.json reads jsonData.apiUrl; url is kept alike for Grafana's own lists.
    onOptionsChange({ ...options, url: apiUrl, jsonData: { ...jsonData, apiUrl } });
  };
  const onLimit = (e: ChangeEvent<HTMLInputElement>) => {
    const n = Number(e.currentTarget.value);
    const defaultLimit = e.currentTarget.value === '' || !Number.isFinite(n) ? undefined : Math.trunc(n);
    onOptionsChange({ ...options, jsonData: { ...jsonData, defaultLimit } });
  };
  const onToken = (e: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, apiToken: e.currentTarget.value } });
  };
  const onResetToken = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, apiToken: false },
      secureJsonData: { ...secureJsonData, apiToken: '' },
    });
  };

  return (
    <FieldSet label="Closer audit query API">
      <Field
        label="API URL"
        description="The local `closer-audit serve` address (e.g. http://localhost:8787), or in AWS the stack's QueryApiUrl output. Grafana's server calls it, not the browser."
        required
      >
        <Input
          id="closer-api-url"
          aria-label="API URL"
          width={60}
          placeholder="http://localhost:8787"
          value={jsonData.apiUrl ?? ''}
          onChange={onApiUrl}
        />
      </Field>
      <Field
        label="API token"
        description="The bearer token: CLOSER_API_TOKEN of `closer-audit serve`, or the secret behind ApiTokenSecretArn. Stored encrypted; never sent to the browser."
        required
      >
        <SecretInput
          id="closer-api-token"
          aria-label="API token"
          width={60}
          placeholder="token"
          isConfigured={Boolean(secureJsonFields?.apiToken)}
          value={secureJsonData.apiToken ?? ''}
          onChange={onToken}
          onReset={onResetToken}
        />
      </Field>
      <Field
        label="Default row limit"
        description="Events an events query returns when it sets no limit (the API's default is 500, at most 10,000)."
      >
        <Input
          id="closer-default-limit"
          aria-label="Default row limit"
          type="number"
          min={1}
          max={10000}
          width={20}
          placeholder="500"
          value={jsonData.defaultLimit ?? ''}
          onChange={onLimit}
        />
      </Field>
    </FieldSet>
  );
}
