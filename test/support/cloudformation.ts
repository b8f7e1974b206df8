// What CloudFormation would make of the intrinsic functions in a packaged template's policy
// documents, with made-up names for the stack's resources: parliament reads plain IAM JSON only.
export type Resource = { Type: string; Properties: Record<string, any>; Condition?: string };

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'closer-audit-prod',
};

/** Ref and the attributes policies use, by resource type; anything else fails loudly. */
function physical(resources: Record<string, Resource>, id: string, attribute?: string): string {
  const type = resources[id]?.Type;
  const name = `closer-audit-prod-${id.toLowerCase()}-1a2b3c`;
  const values: Record<string, Record<string, string>> = {
    'AWS::S3::Bucket': { Ref: name, Arn: `arn:aws:s3:::${name}` },
    'AWS::SQS::Queue': {
      Ref: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`,
      Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
      QueueName: name,
    },
    'AWS::SecretsManager::Secret': { Ref: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf` },
    'AWS::Athena::WorkGroup': { Ref: name },
    'AWS::SNS::Topic': { Ref: `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`, TopicArn: name },
    'AWS::IAM::Role': { Ref: name, Arn: `arn:aws:iam::${ACCOUNT}:role/${name}` },
  };
  const value = type ? values[type]?.[attribute ?? 'Ref'] : undefined;
  if (value === undefined)
    throw new Error(`no stand-in for ${id}${attribute ? `.${attribute}` : ''} (${type})`);
  return value;
}

export function resolveIntrinsics(value: unknown, resources: Record<string, Resource>): unknown {
  const ref = (name: string) => {
    const [id, attribute] = name.split('.') as [string, string | undefined];
    return PSEUDO[name] ?? physical(resources, id, attribute);
  };
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, resources));
  if (value && typeof value === 'object') {
    const o = value as Record<string, any>;
    if ('Ref' in o) return ref(o.Ref);
    if ('Fn::GetAtt' in o) return ref((o['Fn::GetAtt'] as string[]).join('.'));
    if ('Fn::Sub' in o && typeof o['Fn::Sub'] === 'string') {
      return (o['Fn::Sub'] as string).replace(/\$\{(?!!)([^}]+)\}/g, (_, name: string) => ref(name));
    }
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolveIntrinsics(p, resources)).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveIntrinsics(v, resources)]));
  }
  return value;
}

/** Every policy document in the template, named by where it sits, with intrinsics resolved. */
export function policyDocuments(resources: Record<string, Resource>): Record<string, unknown> {
  const docs: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of (r.Properties.Policies ?? []) as { PolicyName: string; PolicyDocument: unknown }[])
        docs[`${id} ${p.PolicyName}`] = resolveIntrinsics(p.PolicyDocument, resources);
    }
    if (r.Type === 'AWS::S3::BucketPolicy' || r.Type === 'AWS::SQS::QueuePolicy') {
      docs[id] = resolveIntrinsics(r.Properties.PolicyDocument, resources);
    }
  }
  return docs;
}
