import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@elastic/elasticsearch';
import { unzipSync } from 'fflate';
import { LAMBDA_NODE } from '../../functions/build.js';
import { distribute, generateHour } from '../../functions/sample/generator.js';
import { DETECTION_COLUMNS } from '../../shared/detections/columns.js';
import { EVENT_COLUMNS } from '../../shared/event/columns.js';
import { DETECTIONS_TABLE, athenaDdl } from '../../shared/schema/athena.js';
import { cli } from '../support/cli.js';
import { policyDocuments, type Resource } from '../support/cloudformation.js';
import { deployTools, type DeployTools } from '../support/deploy-tools.js';
import { storedRows } from '../support/duckdb.js';
import { createCloserLikeIndex, esUrl, loadHits, testClient, uniqueIndex } from '../support/es.js';
import {
  TEST_BUCKET,
  ensureTestBucket,
  mirrorToFolder,
  s3Env,
  testS3Storage,
  uniquePrefix,
} from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

let resources: Record<string, Resource>;
let zipSize = 0;
const templateFile = path.join(root, '.serverless/cloudformation-template-update-stack.json');
// The Lambda runtime's Node.js, cfn-lint and parliament (test/deploy/setup.sh installs them once).
let tools: DeployTools;

// `serverless package` (osls) runs offline: no AWS account, no login, nothing deployed.
beforeAll(async () => {
  tools = await deployTools();
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
      // Zipping the bundles takes minutes on a busy machine.
      timeout: 600_000,
    },
  );
  const template = JSON.parse(await fs.readFile(templateFile, 'utf8')) as {
    Resources: Record<string, Resource>;
  };
  resources = template.Resources;
  zipSize = (await fs.stat(path.join(root, '.serverless/ingest.zip'))).size;
}, 900_000);

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

  it('derives the detections table the same way, over detections/', () => {
    const input = (resources.DetectionsTable as Resource).Properties.TableInput as Record<string, any>;
    expect(input.Name).toBe('detections');
    expect(input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name)).toEqual(
      DETECTION_COLUMNS.map((c) => c.name),
    );
    expect(input.StorageDescriptor.Columns.find((c: { Name: string }) => c.Name === 'event_ids').Type).toBe(
      'array<string>',
    );
    expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'storage.location.template': { 'Fn::Sub': 's3://${AuditBucket}/closer-audit/detections/dt=${!dt}/' },
    });
  });

  it('publishes alerts to their own topic, mailed to the alarm address, from the ingest only', () => {
    const topic = resources.DetectionTopic as Resource;
    expect(topic.Type).toBe('AWS::SNS::Topic');
    expect((resources.DetectionEmailSubscription as Resource).Properties).toMatchObject({
      TopicArn: { Ref: 'DetectionTopic' },
      Protocol: 'email',
      Endpoint: { Ref: 'AlarmEmail' },
    });
    const env = (resources.IngestLambdaFunction as Resource).Properties.Environment as any;
    expect(env.Variables.CLOSER_ALERT_TOPIC_ARN).toEqual({ Ref: 'DetectionTopic' });
    expect(env.Variables.CLOSER_ATHENA_WORKGROUP).toEqual({ Ref: 'AthenaWorkGroup' });
    const publishers = ofType('AWS::IAM::Role').filter(([, r]) =>
      JSON.stringify(r.Properties.Policies).includes('sns:Publish'),
    );
    expect(publishers.map(([name]) => name)).toEqual(['IngestRole']);
    const statements = ((resources.IngestRole as Resource).Properties.Policies as any[]).flatMap(
      (p) => p.PolicyDocument.Statement,
    );
    expect(statements.find((st) => st.Action.includes('sns:Publish'))).toMatchObject({
      Action: ['sns:Publish'],
      Resource: { Ref: 'DetectionTopic' },
    });
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
      'AlertPublishFailures',
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
    expect(routes).toEqual(['GET /catalog', 'GET /health', 'GET /status', 'POST /query', 'POST /variables']);
    const role = resources.QueryRole as Resource;
    const statements = (role.Properties.Policies as { PolicyDocument: { Statement: any[] } }[])[0]
      ?.PolicyDocument.Statement as { Sid: string; Action: string[]; Resource: unknown }[];
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    expect(bySid.ReadTheEventsAndAlertsOnly?.Action).toEqual(['s3:GetObject']);
    expect(JSON.stringify(bySid.ReadTheEventsAndAlertsOnly?.Resource)).toContain('/closer-audit/events/*');
    expect(JSON.stringify(bySid.ReadTheEventsAndAlertsOnly?.Resource)).toContain(
      '/closer-audit/detections/*',
    );
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

/** A template value with its conditions decided for these stack parameters (Ref, Fn::If/Equals/Not/FindInMap). */
function resolve(template: Record<string, any>, value: unknown, params: Record<string, unknown>): unknown {
  const condition = (name: string): boolean => Boolean(resolve(template, template.Conditions[name], params));
  const walk = (v: any): unknown => {
    if (Array.isArray(v)) return v.map(walk).filter((x) => x !== NO_VALUE);
    if (v === null || typeof v !== 'object') return v;
    if ('Ref' in v) return v.Ref === 'AWS::NoValue' ? NO_VALUE : (params[v.Ref] ?? v);
    if ('Fn::If' in v) return walk(condition(v['Fn::If'][0]) ? v['Fn::If'][1] : v['Fn::If'][2]);
    if ('Fn::Equals' in v) return walk(v['Fn::Equals'][0]) === walk(v['Fn::Equals'][1]);
    if ('Fn::Not' in v) return !walk(v['Fn::Not'][0]);
    if ('Fn::FindInMap' in v) {
      const [map, key, field] = (v['Fn::FindInMap'] as unknown[]).map(walk) as string[];
      return template.Mappings[map as string][key as string][field as string];
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = walk(x);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  };
  return walk(value);
}
const NO_VALUE = Symbol('AWS::NoValue');

describe('S3 Object Lock (objectLockMode, objectLockRetentionDays)', () => {
  it('is off by default, and the packaged template locks the bucket when the parameter is set', async () => {
    const defaults = JSON.parse(await fs.readFile(templateFile, 'utf8')) as Record<string, any>;
    const params = (t: Record<string, any>) =>
      Object.fromEntries(Object.entries(t.Parameters as Record<string, any>).map(([k, p]) => [k, p.Default]));
    const bucketOf = (t: Record<string, any>) =>
      resolve(t, t.Resources.AuditBucket.Properties, params(t)) as Record<string, any>;
    expect(bucketOf(defaults).ObjectLockConfiguration).toBeUndefined();
    expect(bucketOf(defaults).ObjectLockEnabled).toBeUndefined();

    const dir = path.join(root, '.serverless-object-lock');
    await fs.rm(dir, { recursive: true, force: true });
    // osls package clears .serverless whatever --package says: the default package the other
    // tests read is set aside meanwhile and put back after.
    const served = path.join(root, '.serverless');
    const kept = path.join(root, '.serverless-object-lock-kept');
    await fs.rm(kept, { recursive: true, force: true });
    await fs.rename(served, kept);
    try {
      await packageLocked(dir);
    } finally {
      await fs.rm(served, { recursive: true, force: true });
      await fs.rename(kept, served);
    }
    try {
      const locked = JSON.parse(
        await fs.readFile(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as Record<string, any>;
      const bucket = bucketOf(locked);
      expect(bucket.ObjectLockEnabled).toBe(true);
      expect(bucket.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: expect.anything() } },
      });
      // --param values reach the template as text or numbers, as osls reads them.
      expect(Number(bucket.ObjectLockConfiguration.Rule.DefaultRetention.Days)).toBe(400);
      // Versioning stays on (Object Lock needs it) and the lifecycle still removes old versions.
      expect(bucket.VersioningConfiguration.Status).toBe('Enabled');
      const noncurrent = bucket.LifecycleConfiguration.Rules.find((r: any) => r.Id === 'noncurrent-versions');
      expect(Number(noncurrent.NoncurrentVersionExpiration.NoncurrentDays)).toBe(400);
      // The ingest's S3 client sends a checksum with every upload, as Object Lock requires.
      const ingest = resolve(
        locked,
        locked.Resources.IngestLambdaFunction.Properties,
        params(locked),
      ) as Record<string, any>;
      expect(ingest.Environment.Variables.CLOSER_S3_OBJECT_LOCK).toBe('compliance');
      const matches = JSON.parse(
        await findings(tools.cfnLint, [
          '--format',
          'json',
          path.join(dir, 'cloudformation-template-update-stack.json'),
        ]),
      ) as CfnLintMatch[];
      expect(matches.filter((m) => m.Level === 'Error')).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
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

  it('prints the detections table after the events table', async () => {
    const out = await cli(['ddl', '--location', 's3://audit-bucket/closer-audit']);
    expect(out.code).toBe(0);
    const expected = athenaDdl(
      's3://audit-bucket/closer-audit',
      'closer_audit',
      'detections',
      DETECTIONS_TABLE,
    );
    expect(out.stdout).toBe(`${athenaDdl('s3://audit-bucket/closer-audit')}\n\n${expected}\n`);
    for (const c of DETECTION_COLUMNS) expect(expected).toContain(`\`${c.name}\``);
    expect(expected).toContain("LOCATION 's3://audit-bucket/closer-audit/detections/'");
    expect(expected).toContain("'projection.dt.type' = 'date'");
  }, 60_000);
});

type CfnLintMatch = {
  Rule: { Id: string };
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Location: { Path: (string | number)[] };
};

/** A linter's findings: these tools exit non-zero when they find anything, and print them. */
async function findings(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else if (err && !stdout.trim()) reject(new Error(`${path.basename(file)} failed: ${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}

describe('the packaged template, linted offline', () => {
  it('has no cfn-lint error, and no warning but the framework-generated ones explained here', async () => {
    const matches = JSON.parse(
      await findings(tools.cfnLint, ['--format', 'json', templateFile]),
    ) as CfnLintMatch[];
    expect(matches.filter((m) => m.Level === 'Error')).toEqual([]);
    // W3005 "dependency already enforced": osls writes a DependsOn on each function's role and on
    // each HTTP API route's integration, which a GetAtt/Ref there already implies. Redundant,
    // harmless, and not in serverless.yml to remove. Anything else fails here.
    const unexplained = matches.filter(
      (m) =>
        !(
          m.Rule.Id === 'W3005' &&
          /^(\w+LambdaFunction|HttpApiRoute\w+)$/.test(String(m.Location.Path[1])) &&
          m.Location.Path[2] === 'DependsOn'
        ),
    );
    expect(unexplained.map((m) => `${m.Rule.Id} ${m.Message}`)).toEqual([]);
    // The switches are conditions on stack parameters, not comparisons of package-time constants.
    const template = JSON.parse(await fs.readFile(templateFile, 'utf8')) as Record<string, any>;
    expect(Object.keys(template.Parameters ?? {}).sort()).toEqual([
      'AlarmEmail',
      'ExpireEventsDays',
      'ObjectLockMode',
      'ObjectLockRetentionDays',
    ]);
    expect(JSON.stringify(template.Conditions)).toContain('{"Ref":"AlarmEmail"}');
    expect(JSON.stringify(template.Conditions)).toContain('{"Ref":"ExpireEventsDays"}');
  });

  it('has IAM policies parliament finds nothing in', async () => {
    const docs = policyDocuments(resources);
    expect(Object.keys(docs).sort()).toEqual([
      'AuditBucketPolicy',
      'IngestRole closer-audit-ingest',
      'QueryRole closer-audit-query',
      'ServerlessDeploymentBucketPolicy',
    ]);
    for (const [name, doc] of Object.entries(docs)) {
      const out = await findings(
        tools.parliament,
        ['--include-community-auditors', '--json'],
        JSON.stringify(doc, null, 2),
      );
      const issues = out
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { issue: string; detail: unknown });
      expect({ name, issues }).toEqual({ name, issues: [] });
    }
  });

  it('grants what Athena documents for the data and the query-results location', () => {
    const statements = (
      (resources.QueryRole as Resource).Properties.Policies as { PolicyDocument: { Statement: any[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement) as {
      Action: string[];
      Resource: unknown;
      Condition?: unknown;
    }[];
    const granted = (action: string, on: string) =>
      statements.some(
        (st) =>
          st.Action.includes(action) &&
          JSON.stringify(st.Resource) === on &&
          // A condition on a key the request does not carry never matches.
          (!st.Condition || action === 's3:ListBucket'),
      );
    const bucket = JSON.stringify({ 'Fn::GetAtt': ['AuditBucket', 'Arn'] });
    const results = JSON.stringify({ 'Fn::Sub': '${AuditBucket.Arn}/athena-results/*' });
    for (const action of ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'])
      expect([action, granted(action, bucket)]).toEqual([action, true]);
    for (const action of [
      's3:GetObject',
      's3:PutObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
    ])
      expect([action, granted(action, results)]).toEqual([action, true]);
  });

  it('lets the ingest tell a missing checkpoint from a denied read', () => {
    // The first run reads a checkpoint that does not exist yet: S3 answers 404, not 403, only to
    // a caller allowed s3:ListBucket, in a check that carries no s3:prefix to match a condition.
    const statements = (
      (resources.IngestRole as Resource).Properties.Policies as { PolicyDocument: { Statement: any[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement);
    const list = statements.find((st) => st.Action.includes('s3:ListBucket'));
    expect(list).toMatchObject({ Effect: 'Allow', Resource: { 'Fn::GetAtt': ['AuditBucket', 'Arn'] } });
    expect(list.Condition).toBeUndefined();
  });
});

/** Unpacks a function's zip as Lambda does, into a folder of its own. */
async function unpack(name: string): Promise<string> {
  const dir = await tmpDir(`lambda-${name}`);
  const files = unzipSync(await fs.readFile(path.join(root, `.serverless/${name}.zip`)));
  for (const [file, data] of Object.entries(files)) {
    if (file.endsWith('/')) continue;
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), data);
  }
  return dir;
}

/** One invocation of a packaged function under the runtime's Node.js (test/deploy/invoke.mjs). */
async function invoke(
  name: 'Ingest' | 'Query',
  event: unknown,
  env: Record<string, string>,
): Promise<{ node: string; result?: any; error?: { message: string } }> {
  const fn = resources[`${name}LambdaFunction`] as Resource;
  const code = await unpack(name.toLowerCase());
  const resultFile = path.join(code, 'result.json');
  // The function's plain-string variables as the template sets them; the test's on top.
  const templateEnv = Object.fromEntries(
    Object.entries((fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>).filter(
      ([, v]) => typeof v === 'string',
    ),
  ) as Record<string, string>;
  await run(
    tools.node,
    [
      path.join(root, 'test/deploy/invoke.mjs'),
      code,
      fn.Properties.Handler,
      String(fn.Properties.Timeout),
      JSON.stringify(event),
      resultFile,
    ],
    {
      cwd: code,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-central-1',
        AWS_LAMBDA_FUNCTION_NAME: `closer-audit-test-${name.toLowerCase()}`,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.Properties.MemorySize),
        ...templateEnv,
        ...env,
      },
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(await fs.readFile(resultFile, 'utf8'));
}

// The Node.js version test/deploy/setup.sh installs (pinned there), named in the test's title.
const lambdaNode = (
  JSON.parse(readFileSync(path.join(root, 'test/deploy/node/package.json'), 'utf8')) as {
    optionalDependencies: Record<string, string>;
  }
).optionalDependencies[`node-linux-${process.arch}`];

describe(`the packaged functions under Node.js ${lambdaNode}, the Lambda runtime's`, () => {
  it('is the version the template names, and the bundles target it', () => {
    const runtimes = [resources.IngestLambdaFunction, resources.QueryLambdaFunction].map(
      (fn) => (fn as Resource).Properties.Runtime,
    );
    expect(runtimes).toEqual(['nodejs24.x', 'nodejs24.x']);
    expect(LAMBDA_NODE).toBe('node24');
    expect(lambdaNode).toMatch(/^24\./);
    expect(tools.nodeVersion).toBe(`v${lambdaNode}`);
    expect(
      [resources.IngestLambdaFunction, resources.QueryLambdaFunction].map(
        (fn) => (fn as Resource).Properties.Architectures,
      ),
    ).toEqual([['arm64'], ['arm64']]);
  });

  describe('ingest', () => {
    let es: Client;
    let index: string;
    let ids: string[] = [];
    const DAY = 86_400_000;

    beforeAll(async () => {
      await ensureTestBucket();
      es = testClient();
      index = uniqueIndex('closer-bundle');
      await createCloserLikeIndex(es, index);
      // Two whole days well before now: sealed alike whenever the test runs.
      const end = Math.floor(Date.now() / DAY) * DAY - DAY;
      const hits = [...distribute(1_500, end - 2 * DAY, end)].flatMap(([h, c]) =>
        generateHour(h, c, { seed: 'bundle' }),
      );
      ids = hits.map((h) => h._id as string);
      await loadHits(es, index, hits);
    }, 120_000);

    afterAll(async () => {
      await es.indices.delete({ index }).catch(() => undefined);
      await es.close();
    });

    it('a scheduled invocation syncs Elasticsearch into S3, every event once', async () => {
      const prefix = uniquePrefix('bundle');
      const out = await invoke(
        'Ingest',
        {
          version: '0',
          id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '123456789012',
          time: new Date().toISOString().slice(0, 19) + 'Z',
          region: 'eu-central-1',
          resources: ['arn:aws:events:eu-central-1:123456789012:rule/closer-audit-test-ingest'],
          detail: {},
        },
        {
          ...s3Env(),
          CLOSER_OUT: `s3://${TEST_BUCKET}/${prefix}`,
          // The test node needs no credentials: no secret to fetch (Secrets Manager is AWS's).
          CLOSER_ES_SECRET_ID: '',
          CLOSER_ES_URL: esUrl(),
          CLOSER_ES_INDEX: index,
          POWERTOOLS_LOG_LEVEL: 'WARN',
        },
      );
      expect(out.error).toBeUndefined();
      expect(out).toMatchObject({
        node: tools.nodeVersion,
        result: { status: 'done', eventsRead: ids.length, rowsWritten: ids.length, quarantined: 0 },
      });
      const mirror = await tmpDir('bundle-mirror');
      await mirrorToFolder(testS3Storage(prefix), mirror, 'events/');
      const rows = await storedRows(mirror);
      expect(rows.map((r) => r.event_id).sort()).toEqual([...ids].sort());
    }, 240_000);
  });

  it('query: health answers, the other routes want the token, unknown routes are 404', async () => {
    const request = (method: string, rawPath: string, headers: Record<string, string> = {}) => ({
      version: '2.0',
      routeKey: `${method} ${rawPath}`,
      rawPath,
      rawQueryString: '',
      headers: { host: 'abc.execute-api.eu-central-1.amazonaws.com', ...headers },
      requestContext: { http: { method, path: rawPath } },
      body: method === 'POST' ? '{}' : undefined,
      isBase64Encoded: false,
    });
    const env = { POWERTOOLS_LOG_LEVEL: 'WARN', CLOSER_ATHENA_WORKGROUP: 'closer-audit-test' };
    const health = await invoke('Query', request('GET', '/health'), env);
    expect(health.error).toBeUndefined();
    expect(health.node).toBe(tools.nodeVersion);
    expect(health.result.statusCode).toBe(200);
    expect(JSON.parse(health.result.body)).toEqual({ status: 'ok', engine: 'athena' });
    const query = await invoke('Query', request('POST', '/query'), env);
    expect(query.result.statusCode).toBe(401);
    expect(query.result.headers['www-authenticate']).toBe('Bearer');
    const missing = await invoke('Query', request('GET', '/nope', { authorization: 'Bearer x' }), env);
    expect(missing.result.statusCode).toBe(404);
  }, 120_000);
});

/** `osls package` with Object Lock on, into `dir`. */
async function packageLocked(dir: string): Promise<void> {
  await run(
    'npx',
    [
      'osls',
      'package',
      '--package',
      dir,
      '--param=esUrl=https://closer-es.example:9200',
      '--param=esSecretArn=arn:aws:secretsmanager:eu-central-1:123456789012:secret:closer-es-AbCdEf',
      '--param=objectLockMode=compliance',
      '--param=objectLockRetentionDays=400',
      '--param=noncurrentVersionDays=400',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
      },
      timeout: 300_000,
    },
  );
}
