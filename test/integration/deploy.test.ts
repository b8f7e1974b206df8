import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { EVENT_COLUMNS } from '../../shared/event/columns.js';
import { athenaDdl } from '../../shared/schema/athena.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string };
let resources: Record<string, Resource>;
let zipSize = 0;

// `serverless package` (osls) runs offline: no AWS account, no login, nothing deployed.
beforeAll(async () => {
  await fs.rm(path.join(root, '.serverless'), { recursive: true, force: true });
  await run(
    'npm',
    [
      'run',
      'package',
      '--',
      '--param=esUrl=https://closer-es.example:9200',
      '--param=esSecretArn=arn:aws:secretsmanager:eu-central-1:123456789012:secret:closer-es-AbCdEf',
    ],
    {
      cwd: root,
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
      timeout: 180_000,
    },
  );
  const template = JSON.parse(
    await fs.readFile(path.join(root, '.serverless/cloudformation-template-update-stack.json'), 'utf8'),
  ) as { Resources: Record<string, Resource> };
  resources = template.Resources;
  zipSize = (await fs.stat(path.join(root, '.serverless/ingest.zip'))).size;
}, 240_000);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

describe('serverless package', () => {
  it('derives the Glue table from the shared schema, with partition projection on dt', () => {
    const [[, table] = []] = ofType('AWS::Glue::Table');
    const input = (table as Resource).Properties.TableInput as Record<string, any>;
    expect(
      input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type]),
    ).toEqual(
      EVENT_COLUMNS.map((c) => [
        c.name,
        {
          timestamp: 'timestamp',
          string: 'string',
          boolean: 'boolean',
          int: 'int',
          string_list: 'array<string>',
        }[c.type],
      ]),
    );
    expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': { 'Fn::Sub': 's3://${AuditBucket}/closer-audit/events/dt=${!dt}/' },
    });
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toContain('ParquetHiveSerDe');
  });

  it('grants no wildcard action in any IAM statement', () => {
    const statements = [
      ...ofType('AWS::IAM::Role').flatMap(([, r]) =>
        ((r.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[]) ?? []).flatMap(
          (p) => p.PolicyDocument.Statement,
        ),
      ),
    ] as { Effect: string; Action: string | string[]; Resource: unknown }[];
    expect(statements.length).toBeGreaterThan(3);
    for (const s of statements.filter((x) => x.Effect === 'Allow')) {
      for (const action of ([] as string[]).concat(s.Action)) expect(action).not.toContain('*');
      expect(JSON.stringify(s.Resource)).not.toBe('"*"');
    }
    const s3 = statements.find((s) => ([] as string[]).concat(s.Action).includes('s3:PutObject'));
    expect(JSON.stringify(s3?.Resource)).toContain('/closer-audit/*');
    const secret = statements.find((s) =>
      ([] as string[]).concat(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(secret?.Resource).toBe('arn:aws:secretsmanager:eu-central-1:123456789012:secret:closer-es-AbCdEf');
  });

  it('runs the ingest one at a time on a schedule, with retries into a dead-letter queue', () => {
    const fn = resources.IngestLambdaFunction as Resource;
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(fn.Properties.Handler).toBe('dist/functions/ingest/index.handler');
    expect(ofType('AWS::Events::Rule')).toHaveLength(1);
    const [[, invoke] = []] = ofType('AWS::Lambda::EventInvokeConfig');
    expect((invoke as Resource).Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['IngestDeadLetterQueue', 'Arn'] } } },
    });
  });

  it('has the alarms, a locked-down bucket and an Athena v3 workgroup with a scan limit', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties.MetricName);
    expect(alarms.sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'Errors',
      'FreshnessLagSeconds',
      'Quarantined',
    ]);
    const bucket = (resources.AuditBucket as Resource).Properties as Record<string, any>;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration.Status).toBe('Enabled');
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toHaveLength(1);
    const wg = (resources.AthenaWorkGroup as Resource).Properties as Record<string, any>;
    expect(wg.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
    });
    expect(wg.WorkGroupConfiguration.BytesScannedCutoffPerQuery).toBeGreaterThan(0);
  });

  it('packs the ingest function small (under 5 MB zipped)', () => {
    expect(zipSize).toBeGreaterThan(100_000);
    expect(zipSize).toBeLessThan(5 * 1024 * 1024);
  });

  it('serves the query API over HTTP with a read-only role and a generated token', () => {
    const fn = resources.QueryLambdaFunction as Resource;
    expect(fn.Properties.Handler).toBe('dist/functions/query/index.handler');
    const routes = ofType('AWS::ApiGatewayV2::Route')
      .map(([, r]) => r.Properties.RouteKey)
      .sort();
    expect(routes).toEqual(['GET /catalog', 'GET /health', 'POST /query', 'POST /variables']);
    const role = resources.QueryRole as Resource;
    const statements = (role.Properties.Policies as { PolicyDocument: { Statement: any[] } }[])[0]
      ?.PolicyDocument.Statement as { Sid: string; Action: string[]; Resource: unknown }[];
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    expect(bySid.ReadTheEventsOnly?.Action).toEqual(['s3:GetObject']);
    expect(JSON.stringify(bySid.ReadTheEventsOnly?.Resource)).toContain('/closer-audit/events/*');
    // Writes go only to Athena's result location, never to the events.
    for (const st of statements.filter((x) => x.Action.includes('s3:PutObject'))) {
      expect(JSON.stringify(st.Resource)).toContain('/athena-results/*');
    }
    expect(JSON.stringify(bySid.RunQueriesInTheWorkgroup?.Resource)).toContain(
      'workgroup/${AthenaWorkGroup}',
    );
    expect(JSON.stringify(bySid.ReadTheTableDefinition?.Resource)).toContain('table/closer_audit/events');
    expect(resources.ApiTokenSecret?.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48 });
  });
});

describe('closer-audit ddl', () => {
  it('prints the same table for teams without serverless.yml', () => {
    const ddl = athenaDdl('s3://audit-bucket/closer-audit');
    for (const c of EVENT_COLUMNS) expect(ddl).toContain(`\`${c.name}\``);
    expect(ddl).toContain("LOCATION 's3://audit-bucket/closer-audit/events/'");
    expect(ddl).toContain("'storage.location.template' = 's3://audit-bucket/closer-audit/events/dt=${dt}/'");
    expect(ddl).toContain('PARTITIONED BY (`dt` string)');
    expect(() => athenaDdl('./local')).toThrow('s3://bucket/prefix');
  });
});
