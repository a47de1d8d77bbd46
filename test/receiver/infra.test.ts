/**
 * The receiver's CDK stack (infra/receiver-stack.ts), asserted on the synthesised CloudFormation.
 * Offline and fast: bundling is skipped ('aws:cdk:bundling-stacks': [], so esbuild never runs and
 * the Lambda entries are never read) and the built-in template validator is off (CDK_VALIDATION).
 * NodejsFunction still insists that its entry file exists, so the stacks under test point both
 * functions at this file; the real entries are checked separately below.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { readReceiverContext } from '../../infra/config';
import { DEFAULT_FORWARDER_ENTRY, DEFAULT_RECEIVER_ENTRY, REPO_ROOT } from '../../infra/paths';
import {
  ACCEPTED_PATTERN,
  DEFAULT_FORWARDER_CONCURRENCY,
  DEFAULT_RECEIVER_CONCURRENCY,
  DUPLICATE_PATTERN,
  FORWARD_DEAD_LETTERED_PATTERN,
  FORWARD_GAVE_UP_PATTERN,
  FORWARD_RETRY_PATTERN,
  FORWARD_URL_PLACEHOLDER,
  FORWARDED_PATTERN,
  FORWARDER_ATTEMPTS,
  FORWARDER_MISCONFIGURED_PATTERN,
  HANDOFF_UNRECORDED_PATTERN,
  IN_PROGRESS_PATTERN,
  REFUSED_PATTERN,
  QUEUE_MAX_MESSAGE_BYTES,
  ReceiverStack,
  SECRET_PLACEHOLDER,
  SOURCE_MAPS_ENVIRONMENT,
  type ReceiverStackProps,
} from '../../infra/receiver-stack';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BYTES } from '../../src/receiver/aws/sqs-hand-off';
import { FORWARD_SCHEDULE, forwardTarget } from '../../src/receiver/forward';
import { parseSecrets } from '../../src/receiver/config';

type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Resources = Record<string, Resource>;

const FORWARD_URL = 'https://crm.example/hooks/ecologic?token=abc';
const ALARM_EMAIL = 'ops@partner.example';
const EXISTING_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:crm/forward-url-AbC123';

// The same feature flags `cdk synth` uses, so the template under test is the one that deploys.
const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };

const newApp = (): App => new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
const newStack = (app: App, props: ReceiverStackProps = {}): ReceiverStack =>
  new ReceiverStack(app, 'Receiver', { receiverEntry: __filename, forwarderEntry: __filename, ...props });

interface Synth {
  template: Template;
  resources: Resources;
  /** What the cloud assembly directory holds: a staged (bundled) asset would show up as asset.*. */
  assemblyFiles: string[];
}

const synth = (props: ReceiverStackProps = {}): Synth => {
  const app = newApp();
  const stack = newStack(app, props);
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>);
  return { template, resources: template.toJSON()['Resources'] as Resources, assemblyFiles: readdirSync(assembly.directory) };
};

const ofType = (resources: Resources, type: string): Array<[string, Resource]> =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

const only = <T>(items: T[], what: string): T => {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
};

/** The logical ids the assertions refer to, found by role rather than by generated name. */
const ids = (resources: Resources) => {
  const functions = ofType(resources, 'AWS::Lambda::Function');
  const receiver = only(functions.filter(([, f]) => f.Properties?.['Environment']?.Variables?.HANDOFF_QUEUE_URL !== undefined), 'receiver');
  const forwarder = functions.find(([, f]) => f.Properties?.['Environment']?.Variables?.DEAD_LETTER_QUEUE_URL !== undefined);
  const queues = ofType(resources, 'AWS::SQS::Queue');
  const logGroupOf = (fn: Resource | undefined) => fn?.Properties?.['LoggingConfig']?.LogGroup?.Ref as string | undefined;
  const roleOf = (fn: Resource | undefined) => fn?.Properties?.['Role']?.['Fn::GetAtt']?.[0] as string | undefined;
  return {
    receiver: receiver[0],
    receiverRole: roleOf(receiver[1]) as string,
    receiverLogs: logGroupOf(receiver[1]) as string,
    forwarder: forwarder?.[0],
    forwarderRole: roleOf(forwarder?.[1]),
    forwarderLogs: logGroupOf(forwarder?.[1]),
    table: only(ofType(resources, 'AWS::DynamoDB::Table'), 'table')[0],
    secret: only(
      ofType(resources, 'AWS::SecretsManager::Secret').filter(([, s]) => s.Properties?.['SecretString'] === SECRET_PLACEHOLDER && /whsec_/.test(String(s.Properties?.['Description']))),
      'secret',
    )[0],
    forwardUrlSecret: ofType(resources, 'AWS::SecretsManager::Secret').find(([, s]) => /forwarder/.test(String(s.Properties?.['Description'])))?.[0],
    queue: only(queues.filter(([, q]) => q.Properties?.['RedrivePolicy'] !== undefined), 'hand-off queue')[0],
    deadLetterQueue: only(queues.filter(([, q]) => q.Properties?.['RedrivePolicy'] === undefined), 'dead-letter queue')[0],
  };
};

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A resource reference as a short readable string: `Table.Arn`, `ref:Secret`, or the literal. */
const describeResource = (resource: unknown): string => {
  if (typeof resource === 'string') return resource;
  const ref = resource as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (ref.Ref) return `ref:${ref.Ref}`;
  if (ref['Fn::GetAtt']) return `${ref['Fn::GetAtt'][0]}.${ref['Fn::GetAtt'][1]}`;
  return JSON.stringify(resource);
};

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every identity-policy statement in the template (IAM::Policy resources and roles' inline policies). */
const allStatements = (resources: Resources): Array<{ roles: string[]; statement: Statement }> => [
  ...ofType(resources, 'AWS::IAM::Policy').flatMap(([, policy]) =>
    asArray<Statement>(policy.Properties?.['PolicyDocument']?.Statement).map((statement) => ({
      roles: asArray<{ Ref: string }>(policy.Properties?.['Roles']).map((role) => role.Ref),
      statement,
    })),
  ),
  ...ofType(resources, 'AWS::IAM::Role').flatMap(([id, role]) =>
    asArray<{ PolicyDocument: { Statement: Statement[] } }>(role.Properties?.['Policies']).flatMap((policy) =>
      policy.PolicyDocument.Statement.map((statement) => ({ roles: [id], statement })),
    ),
  ),
];

/**
 * What a role may do, as sorted "action on resource" pairs: merged and split statements
 * (minimizePolicies) read the same, and any extra action or resource shows up in the diff.
 */
const permissionsOf = (resources: Resources, roleId: string): string[] =>
  allStatements(resources)
    .filter(({ roles }) => roles.includes(roleId))
    .flatMap(({ statement }) => {
      if (statement.Effect !== 'Allow' || statement.Condition !== undefined) throw new Error(`unexpected statement ${JSON.stringify(statement)}`);
      return asArray(statement.Action).flatMap((action) => asArray(statement.Resource).map((r) => `${action} on ${describeResource(r)}`));
    })
    .sort();

const pairs = (actions: string[], resource: string): string[] => actions.map((action) => `${action} on ${resource}`);

let base: Synth;
let full: Synth;
let existing: Synth;
let withSourceMaps: Synth;
let baseSeconds: number;

beforeAll(() => {
  const validation = process.env['CDK_VALIDATION'];
  process.env['CDK_VALIDATION'] = 'false';
  try {
    const started = Date.now();
    base = synth();
    baseSeconds = (Date.now() - started) / 1000;
    full = synth({ forwarder: true, alarmEmail: ALARM_EMAIL });
    existing = synth({ forwardUrlSecretArn: EXISTING_SECRET_ARN });
    withSourceMaps = synth({ forwarder: true, sourceMaps: true });
  } finally {
    if (validation === undefined) delete process.env['CDK_VALIDATION'];
    else process.env['CDK_VALIDATION'] = validation;
  }
});

describe('synthesis in tests', () => {
  it('skips bundling: no asset is staged, so esbuild did not run', () => {
    expect(base.assemblyFiles.filter((name) => name.startsWith('asset.'))).toEqual([]);
    expect(full.assemblyFiles.filter((name) => name.startsWith('asset.'))).toEqual([]);
    // Bundling the receiver takes seconds; a synth without it, well under that (module loading included).
    expect(baseSeconds).toBeLessThan(10);
  });
});

describe('receiver function', () => {
  it('runs Node.js 22 on arm64 with 512 MB, and gives up before the platform does (15 s)', () => {
    const { receiver } = ids(base.resources);
    const props = base.resources[receiver]?.Properties ?? {};
    expect(props['Runtime']).toBe('nodejs22.x');
    expect(props['Architectures']).toEqual(['arm64']);
    expect(props['MemorySize']).toBe(512);
    expect(props['Timeout']).toBeLessThan(15);
    expect(props['Timeout']).toBeGreaterThanOrEqual(10);
    expect(props['Handler']).toBe('index.handler');
  });

  it('is told exactly where its secret, table and queue are', () => {
    const { receiver, secret, table, queue } = ids(base.resources);
    expect(base.resources[receiver]?.Properties?.['Environment']).toEqual({
      Variables: {
        ECOLOGIC_SECRETS_ARN: { Ref: secret },
        DEDUPE_TABLE: { Ref: table },
        HANDOFF_QUEUE_URL: { Ref: queue },
      },
    });
  });

  it('logs to its own log group with a retention (no log-retention custom resource)', () => {
    const { receiverLogs } = ids(base.resources);
    expect(base.resources[receiverLogs]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
  });

  it('is reachable through a public, buffered Function URL, and only through it', () => {
    const { receiver } = ids(base.resources);
    base.template.resourceCountIs('AWS::Lambda::Url', 1);
    base.template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      TargetFunctionArn: { 'Fn::GetAtt': [receiver, 'Arn'] },
    });
    // Anyone may call the URL; the public lambda:InvokeFunction must be limited to calls through
    // it, or anyone could invoke the function directly with any event through the Lambda API.
    const permissions = ofType(base.resources, 'AWS::Lambda::Permission').map(([, p]) => p.Properties ?? {});
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission['FunctionName']).toEqual({ 'Fn::GetAtt': [receiver, 'Arn'] });
      if (permission['Action'] === 'lambda:InvokeFunctionUrl') expect(permission['FunctionUrlAuthType']).toBe('NONE');
      else expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true });
    }
  });

  it('the secret starts with a placeholder the receiver refuses to use', () => {
    const { secret } = ids(base.resources);
    expect(base.resources[secret]?.Properties).toMatchObject({ SecretString: SECRET_PLACEHOLDER });
    expect(base.resources[secret]?.Properties?.['GenerateSecretString']).toBeUndefined();
    // Unconfigured means 503 + the Unavailable alarm, never a delivery accepted under a bogus key.
    expect(() => parseSecrets(SECRET_PLACEHOLDER)).toThrow(/not a whsec_ secret/);
  });
});

describe('de-duplication table', () => {
  it('is keyed by event_id, on demand, expires items, has PITR and AWS-managed encryption, and is retained', () => {
    const { table } = ids(base.resources);
    expect(base.resources[table]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'event_id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'event_id', AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key id: the AWS-managed aws/dynamodb key (absent would be AWS-owned).
        SSESpecification: { SSEEnabled: true },
      },
    });
    expect(base.resources[table]?.Properties?.['SSESpecification']?.KMSMasterKeyId).toBeUndefined();
  });
});

describe('hand-off queue and dead-letter queue', () => {
  it('keep messages 14 days, SQS-encrypted, and move a message to the DLQ after the forwarder\'s last attempt', () => {
    expect(FORWARDER_ATTEMPTS).toBe(FORWARD_SCHEDULE.maxAttempts);
    const { queue, deadLetterQueue } = ids(base.resources);
    const fourteenDays = 14 * 24 * 60 * 60;
    expect(base.resources[queue]?.Properties).toMatchObject({
      MessageRetentionPeriod: fourteenDays,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueue, 'Arn'] }, maxReceiveCount: FORWARD_SCHEDULE.maxAttempts },
    });
    expect(base.resources[deadLetterQueue]?.Properties).toMatchObject({ MessageRetentionPeriod: fourteenDays, SqsManagedSseEnabled: true });
  });

  it('are FIFO, de-duplicated by the id each message carries (not content), in high-throughput mode, and take 1 MiB messages', () => {
    for (const { resources } of [base, full]) {
      const { queue, deadLetterQueue } = ids(resources);
      for (const target of [queue, deadLetterQueue]) {
        expect(resources[target]?.Properties).toMatchObject({
          FifoQueue: true,
          DeduplicationScope: 'messageGroup',
          FifoThroughputLimit: 'perMessageGroupId',
          MaximumMessageSize: 1048576,
        });
        // Content-based de-duplication would drop two events with the same item body: ids decide.
        expect(resources[target]?.Properties?.['ContentBasedDeduplication']).not.toBe(true);
      }
    }
    // The hand-off's limits (per message and per SendMessageBatch) are the queues'.
    expect(QUEUE_MAX_MESSAGE_BYTES).toBe(1024 * 1024);
    expect(SQS_MAX_BYTES).toBe(QUEUE_MAX_MESSAGE_BYTES);
    expect(SQS_MAX_BATCH_BYTES).toBe(QUEUE_MAX_MESSAGE_BYTES);
  });

  it('refuse requests without TLS', () => {
    const { queue, deadLetterQueue } = ids(base.resources);
    for (const target of [queue, deadLetterQueue]) {
      base.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: target }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: { 'Fn::GetAtt': [target, 'Arn'] } }),
          ]),
        },
      });
    }
  });

  it('hide a message in flight for at least six forwarder timeouts (a FIFO event source has no batching window)', () => {
    const { queue, forwarder } = ids(full.resources);
    const forwarderTimeout = full.resources[forwarder as string]?.Properties?.['Timeout'] as number;
    const [, mapping] = only(ofType(full.resources, 'AWS::Lambda::EventSourceMapping'), 'event source mapping');
    expect(mapping.Properties?.['MaximumBatchingWindowInSeconds']).toBeUndefined();
    expect(full.resources[queue]?.Properties?.['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * forwarderTimeout);
    // The same queue without a forwarder: a partner's own consumer gets the same margin.
    expect(base.resources[ids(base.resources).queue]?.Properties?.['VisibilityTimeout']).toBe(full.resources[queue]?.Properties?.['VisibilityTimeout']);
  });
});

describe('least privilege', () => {
  it('the receiver may write its logs, claim/complete/release/look up events (one or a batch), send to the queue and read the secret: nothing else', () => {
    for (const { resources } of [base, full]) {
      const { receiverRole, receiverLogs, table, queue, secret } = ids(resources);
      expect(permissionsOf(resources, receiverRole)).toEqual(
        [
          ...pairs(['logs:CreateLogStream', 'logs:PutLogEvents'], `${receiverLogs}.Arn`),
          ...pairs(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], `${table}.Arn`),
          ...pairs(['sqs:SendMessage'], `${queue}.Arn`),
          ...pairs(['secretsmanager:GetSecretValue'], `ref:${secret}`),
        ].sort(),
      );
    }
  });

  it('the forwarder may consume the hand-off queue (with backoff), dead-letter items and read its URL secret: nothing else', () => {
    for (const [{ resources }, secretResource] of [
      [full, `ref:${ids(full.resources).forwardUrlSecret as string}`],
      [existing, EXISTING_SECRET_ARN],
    ] as const) {
      const { forwarderRole, forwarderLogs, queue, deadLetterQueue } = ids(resources);
      expect(permissionsOf(resources, forwarderRole as string)).toEqual(
        [
          ...pairs(['logs:CreateLogStream', 'logs:PutLogEvents'], `${forwarderLogs}.Arn`),
          // The event source's grant (receive, delete, attributes, url) plus the backoff's visibility change.
          ...pairs(
            ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
            `${queue}.Arn`,
          ),
          ...pairs(['sqs:SendMessage'], `${deadLetterQueue}.Arn`),
          ...pairs(['secretsmanager:GetSecretValue'], secretResource),
        ].sort(),
      );
    }
  });

  it('no role has a wildcard action or resource, a managed policy, or another trust than Lambda', () => {
    for (const { resources } of [base, full, existing]) {
      const statements = allStatements(resources);
      expect(statements.length).toBeGreaterThan(0);
      for (const { statement } of statements) {
        for (const action of asArray(statement.Action)) expect(action).not.toContain('*');
        for (const resource of asArray(statement.Resource)) expect(resource).not.toBe('*');
      }
      for (const [, role] of ofType(resources, 'AWS::IAM::Role')) {
        expect(role.Properties?.['ManagedPolicyArns']).toBeUndefined();
        expect(role.Properties?.['AssumeRolePolicyDocument']?.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ]);
      }
    }
  });
});

describe('alarms', () => {
  it('count rejected signatures, unavailability and unrecorded hand-offs from the receiver log with the exact patterns', () => {
    const { receiverLogs } = ids(base.resources);
    const filters = ofType(base.resources, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    // These three, and the four more outcomes the dashboard counts (see "dashboard" below).
    expect(filters).toHaveLength(7);
    expect(HANDOFF_UNRECORDED_PATTERN).toBe('{ $.outcome = "handoff_unrecorded" }');
    for (const [pattern, metricName] of [
      ['{ $.outcome = "rejected_signature" }', 'RejectedSignatures'],
      ['{ $.outcome = "unavailable" }', 'Unavailable'],
      ['{ $.outcome = "handoff_unrecorded" }', 'HandOffUnrecorded'],
    ] as const) {
      expect(filters).toContainEqual({
        FilterPattern: pattern,
        LogGroupName: { Ref: receiverLogs },
        MetricTransformations: [{ MetricNamespace: 'Ecologic/Receiver', MetricName: metricName, MetricValue: '1', DefaultValue: 0 }],
      });
    }
  });

  it('fire on a dead-lettered item, 10 rejected signatures or 5 unavailable answers in 5 minutes, one unrecorded hand-off, and receiver errors', () => {
    const { deadLetterQueue, receiver } = ids(base.resources);
    const common = { ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' };
    base.template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    // A single unrecorded completion already opens the door to a second copy after 5 minutes.
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'Ecologic/Receiver',
      MetricName: 'HandOffUnrecorded',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
    });
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterQueue, 'QueueName'] } }],
      Threshold: 1,
    });
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'Ecologic/Receiver',
      MetricName: 'RejectedSignatures',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 10,
    });
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'Ecologic/Receiver',
      MetricName: 'Unavailable',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 5,
    });
    base.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: receiver } }],
      Threshold: 1,
    });
  });

  it('notify nobody without alarmEmail', () => {
    base.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const [, alarm] of ofType(base.resources, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties?.['AlarmActions']).toBeUndefined();
  });

  it('with alarmEmail, every alarm notifies an SNS topic with that email subscribed', () => {
    const [topic] = only(ofType(full.resources, 'AWS::SNS::Topic'), 'topic');
    full.template.resourceCountIs('AWS::SNS::Subscription', 1);
    full.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: ALARM_EMAIL, TopicArn: { Ref: topic } });
    const alarms = ofType(full.resources, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(6); // the five above and the forwarder's errors
    for (const [, alarm] of alarms) {
      expect(alarm.Properties?.['AlarmActions']).toEqual([{ Ref: topic }]);
      expect(alarm.Properties?.['OKActions']).toEqual([{ Ref: topic }]);
    }
    full.template.hasOutput('AlarmTopicArn', { Value: { Ref: topic } });
  });
});

/** A template value as one string: joins joined, `{Ref:X}` for a Ref and `{X.Attr}` for a GetAtt. */
const flatten = (value: unknown): string => {
  if (typeof value === 'string') return value;
  const intrinsic = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
  if (intrinsic['Fn::Join']) return intrinsic['Fn::Join'][1].map(flatten).join(intrinsic['Fn::Join'][0]);
  if (intrinsic.Ref) return `{Ref:${intrinsic.Ref}}`;
  if (intrinsic['Fn::GetAtt']) return `{${intrinsic['Fn::GetAtt'][0]}.${intrinsic['Fn::GetAtt'][1]}}`;
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
};

interface Widget {
  type: string;
  properties: { title?: string; view?: string; metrics?: unknown[][]; alarms?: string[] };
}

interface Dashboard {
  name: string;
  widgets: Widget[];
}

/** The one dashboard, its DashboardBody (a JSON string, or an Fn::Join around the region and ids) parsed. */
const dashboardOf = (resources: Resources): Dashboard => {
  const [, dashboard] = only(ofType(resources, 'AWS::CloudWatch::Dashboard'), 'dashboard');
  const body = JSON.parse(flatten(dashboard.Properties?.['DashboardBody'])) as { widgets: Widget[] };
  return { name: flatten(dashboard.Properties?.['DashboardName']), widgets: body.widgets };
};

interface Plotted {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  stat: string | undefined;
  period: number | undefined;
}

/** A widget's metric lines (`[namespace, name, dimension, value, …, {stat, period, …}]`) read back. */
const plotted = (widget: Widget): Plotted[] =>
  (widget.properties.metrics ?? []).map((line) => {
    const options = typeof line[line.length - 1] === 'object' ? (line[line.length - 1] as { stat?: string; period?: number }) : {};
    const [namespace, name, ...rest] = line.filter((part) => typeof part === 'string') as string[];
    const dimensions: Record<string, string> = {};
    for (let at = 0; at + 1 < rest.length; at += 2) dimensions[rest[at] as string] = rest[at + 1] as string;
    return { namespace: namespace as string, name: name as string, dimensions, stat: options.stat, period: options.period };
  });

type Wanted = Partial<Plotted> & { namespace: string; name: string };
const shows = (widget: Widget, wanted: Wanted): boolean =>
  plotted(widget).some(
    (metric) =>
      metric.namespace === wanted.namespace &&
      metric.name === wanted.name &&
      (wanted.stat === undefined || metric.stat === wanted.stat) &&
      (wanted.period === undefined || metric.period === wanted.period) &&
      JSON.stringify(metric.dimensions) === JSON.stringify(wanted.dimensions ?? {}),
  );
/** One widget shows all of these together. */
const together = (widgets: Widget[], ...wanted: Wanted[]): boolean => widgets.some((widget) => wanted.every((each) => shows(widget, each)));

const ours = (name: string): Wanted => ({ namespace: 'Ecologic/Receiver', name, stat: 'Sum', period: 60 });
const lambdaMetric = (fn: string, name: string, stat: string): Wanted => ({ namespace: 'AWS/Lambda', name, stat, period: 60, dimensions: { FunctionName: `{Ref:${fn}}` } });
const sqsMetric = (queue: string, name: string): Wanted => ({ namespace: 'AWS/SQS', name, stat: 'Maximum', period: 60, dimensions: { QueueName: `{${queue}.QueueName}` } });

/**
 * What the dashboard must show, as the names of what is missing (none when all is there): every
 * widget is needed by at least one of these, so removing any widget shows up here.
 */
const dashboardGaps = (resources: Resources, widgets: Widget[]): string[] => {
  const { receiver, forwarder, queue, deadLetterQueue } = ids(resources);
  const alarmArns = ofType(resources, 'AWS::CloudWatch::Alarm').map(([id]) => `{${id}.Arn}`).sort();
  const wanted: Array<[string, boolean]> = [
    [
      'deliveries by outcome, per minute, in one widget',
      together(widgets, ...['Accepted', 'Duplicates', 'InProgress', 'RejectedSignatures', 'Refused', 'Unavailable', 'HandOffUnrecorded'].map(ours)),
    ],
    [
      'rejected signatures in a widget of their own',
      widgets.some((widget) => plotted(widget).length === 1 && shows(widget, ours('RejectedSignatures'))),
    ],
    [
      'the numbers waiting now (hand-off queue and dead letters) as single values',
      widgets.some(
        (widget) =>
          widget.properties.view === 'singleValue' &&
          shows(widget, sqsMetric(queue, 'ApproximateNumberOfMessagesVisible')) &&
          shows(widget, sqsMetric(deadLetterQueue, 'ApproximateNumberOfMessagesVisible')),
      ),
    ],
    [
      'hand-off queue depth (visible and in flight) and age of its oldest message',
      together(
        widgets.filter((widget) => widget.properties.view === 'timeSeries'),
        sqsMetric(queue, 'ApproximateNumberOfMessagesVisible'),
        sqsMetric(queue, 'ApproximateNumberOfMessagesNotVisible'),
        sqsMetric(queue, 'ApproximateAgeOfOldestMessage'),
      ),
    ],
    [
      'dead-letter queue depth and age of its oldest message',
      together(
        widgets.filter((widget) => widget.properties.view === 'timeSeries'),
        sqsMetric(deadLetterQueue, 'ApproximateNumberOfMessagesVisible'),
        sqsMetric(deadLetterQueue, 'ApproximateAgeOfOldestMessage'),
      ),
    ],
    ['receiver duration p50 and p99', together(widgets, lambdaMetric(receiver, 'Duration', 'p50'), lambdaMetric(receiver, 'Duration', 'p99'))],
    [
      'receiver invocations, errors, throttles and concurrent executions',
      together(
        widgets,
        lambdaMetric(receiver, 'Invocations', 'Sum'),
        lambdaMetric(receiver, 'Errors', 'Sum'),
        lambdaMetric(receiver, 'Throttles', 'Sum'),
        lambdaMetric(receiver, 'ConcurrentExecutions', 'Maximum'),
      ),
    ],
    [
      'every alarm in an alarm status widget',
      widgets.some((widget) => widget.type === 'alarm' && JSON.stringify([...(widget.properties.alarms ?? [])].sort()) === JSON.stringify(alarmArns)),
    ],
  ];
  if (forwarder !== undefined) {
    wanted.push(
      [
        'forwarder results: delivered, retried, gave up (rejected, last attempt), unusable URL',
        together(widgets, ...['Forwarded', 'ForwardRetries', 'ForwardDeadLettered', 'ForwardGaveUp', 'ForwarderMisconfigured'].map(ours)),
      ],
      [
        'forwarder invocations, errors, throttles and duration p99',
        together(
          widgets,
          lambdaMetric(forwarder, 'Invocations', 'Sum'),
          lambdaMetric(forwarder, 'Errors', 'Sum'),
          lambdaMetric(forwarder, 'Throttles', 'Sum'),
          lambdaMetric(forwarder, 'Duration', 'p99'),
        ),
      ],
    );
  }
  return wanted.filter(([, found]) => !found).map(([what]) => what);
};

/** The outcomes a source file logs: `outcome: 'x'` and `outcome = cond ? 'x' : 'y'`. */
const loggedOutcomes = (file: string): string[] => {
  const source = readFileSync(join(REPO_ROOT, file), 'utf8');
  const found = new Set<string>();
  for (const [, outcome] of source.matchAll(/outcome: '([a-z_]+)'/g)) found.add(outcome as string);
  for (const [, a, b] of source.matchAll(/outcome(?: =|:) [\w.]+(?: > 0)? \? '([a-z_]+)' : '([a-z_]+)'/g)) {
    found.add(a as string);
    found.add(b as string);
  }
  return [...found].sort();
};

/** The metric filters on a log group, as metric name → pattern. */
const filtersOn = (resources: Resources, logGroup: string | undefined): Record<string, string> =>
  Object.fromEntries(
    ofType(resources, 'AWS::Logs::MetricFilter')
      .filter(([, f]) => f.Properties?.['LogGroupName']?.Ref === logGroup)
      .map(([, f]) => {
        expect(f.Properties?.['MetricTransformations']).toEqual([
          { MetricNamespace: 'Ecologic/Receiver', MetricName: expect.any(String), MetricValue: '1', DefaultValue: 0 },
        ]);
        return [f.Properties?.['MetricTransformations'][0].MetricName as string, f.Properties?.['FilterPattern'] as string];
      }),
  );

describe('dashboard', () => {
  it('one per stack, named after the stack and its region (dashboards are global to the account), and named in the outputs', () => {
    for (const { resources, template } of [base, full, existing]) {
      const [id] = only(ofType(resources, 'AWS::CloudWatch::Dashboard'), 'dashboard');
      expect(dashboardOf(resources).name).toBe('Receiver-{Ref:AWS::Region}');
      template.hasOutput('DashboardName', { Value: { Ref: id } });
    }
  });

  it('shows deliveries by outcome, rejected signatures, both queues, the receiver (p50, p99, errors) and every alarm; with a forwarder, its results too', () => {
    for (const { resources } of [base, full, existing]) {
      expect(dashboardGaps(resources, dashboardOf(resources).widgets)).toEqual([]);
    }
    // Without a forwarder, nothing about one (it would be an empty graph).
    const baseMetrics = dashboardOf(base.resources).widgets.flatMap(plotted).map((metric) => metric.name);
    expect(baseMetrics).not.toContain('Forwarded');
    expect(baseMetrics).toEqual(expect.arrayContaining(['Accepted', 'Duration', 'ApproximateNumberOfMessagesVisible']));
  });

  it('counts per minute and shows queue depths at their deepest in the minute', () => {
    for (const metric of dashboardOf(full.resources).widgets.flatMap(plotted)) {
      expect(metric.period).toBe(60);
      if (metric.namespace === 'AWS/SQS') expect(metric.stat).toBe('Maximum');
      if (metric.namespace === 'Ecologic/Receiver') expect(metric.stat).toBe('Sum');
      if (metric.name === 'Duration') expect(metric.stat).toMatch(/^p(50|99)$/);
    }
  });

  it('misses something whenever any one widget is removed (so the checks above cover every widget)', () => {
    for (const { resources } of [base, full]) {
      const { widgets } = dashboardOf(resources);
      const shown = widgets.filter((widget) => widget.type !== 'text');
      expect(shown.length).toBeGreaterThanOrEqual(resources === full.resources ? 10 : 8);
      for (const removed of shown) {
        const gaps = dashboardGaps(resources, widgets.filter((widget) => widget !== removed));
        // The title says which widget went unnoticed, if one does.
        expect({ removed: removed.properties.title, noticed: gaps.length > 0 }).toEqual({ removed: removed.properties.title, noticed: true });
      }
    }
  });

  it('every metric it shows from the logs has its metric filter, on the receiver or forwarder log group', () => {
    for (const { resources } of [base, full]) {
      const { receiverLogs, forwarderLogs } = ids(resources);
      const defined = { ...filtersOn(resources, receiverLogs), ...filtersOn(resources, forwarderLogs) };
      const shown = dashboardOf(resources).widgets.flatMap(plotted).filter((metric) => metric.namespace === 'Ecologic/Receiver');
      expect(shown.length).toBeGreaterThan(0);
      for (const metric of shown) expect(Object.keys(defined)).toContain(metric.name);
    }
  });

  it('counts the receiver\'s outcomes with these exact patterns on its log group, every outcome it logs among them', () => {
    const { receiverLogs } = ids(base.resources);
    const patterns = filtersOn(base.resources, receiverLogs);
    expect(patterns).toEqual({
      Accepted: '{ $.outcome = "accepted" }',
      Duplicates: '{ $.outcome = "duplicate" }',
      InProgress: '{ $.outcome = "in_progress" }',
      Refused: '{ ($.outcome = "too_large") || ($.outcome = "not_events") || ($.outcome = "too_many_records") }',
      RejectedSignatures: '{ $.outcome = "rejected_signature" }',
      Unavailable: '{ $.outcome = "unavailable" }',
      HandOffUnrecorded: '{ $.outcome = "handoff_unrecorded" }',
    });
    expect([ACCEPTED_PATTERN, DUPLICATE_PATTERN, IN_PROGRESS_PATTERN, REFUSED_PATTERN].every((p) => Object.values(patterns).includes(p))).toBe(true);
    const outcomes = loggedOutcomes('src/receiver/handler.ts');
    expect(outcomes).toEqual(expect.arrayContaining(['accepted', 'duplicate', 'rejected_signature', 'unavailable']));
    for (const outcome of outcomes) {
      expect({ outcome, counted: Object.values(patterns).some((p) => p.includes(`"${outcome}"`)) }).toEqual({ outcome, counted: true });
    }
  });

  it('counts the forwarder\'s results on its log group: the last failed attempt is the one at the dead-letter threshold', () => {
    const { forwarderLogs } = ids(full.resources);
    const patterns = filtersOn(full.resources, forwarderLogs);
    expect(patterns).toEqual({
      Forwarded: FORWARDED_PATTERN,
      ForwardRetries: FORWARD_RETRY_PATTERN,
      ForwardDeadLettered: FORWARD_DEAD_LETTERED_PATTERN,
      ForwardGaveUp: FORWARD_GAVE_UP_PATTERN,
      ForwarderMisconfigured: FORWARDER_MISCONFIGURED_PATTERN,
    });
    expect(FORWARDED_PATTERN).toBe('{ $.outcome = "delivered" }');
    expect(FORWARD_RETRY_PATTERN).toBe('{ $.outcome = "retry" }');
    expect(FORWARD_DEAD_LETTERED_PATTERN).toBe('{ $.outcome = "dead_letter" }');
    // SQS moves a message to the dead-letter queue once it was received maxReceiveCount times.
    expect(FORWARD_GAVE_UP_PATTERN).toBe(
      `{ (($.outcome = "retry") || ($.outcome = "failed") || ($.outcome = "not_attempted")) && ($.receive_count >= ${FORWARD_SCHEDULE.maxAttempts}) }`,
    );
    expect(FORWARDER_MISCONFIGURED_PATTERN).toBe('{ $.message = "forwarder misconfigured*" }');
    const source = readFileSync(join(REPO_ROOT, 'src/receiver/aws/forwarder-lambda.ts'), 'utf8');
    expect(source).toContain("log.error('forwarder misconfigured: records not forwarded'");
    expect(source).toMatch(/receive_count: receiveCount/);
    const outcomes = loggedOutcomes('src/receiver/aws/forwarder-lambda.ts');
    expect(outcomes).toEqual(['dead_letter', 'delivered', 'failed', 'not_attempted', 'retry']);
    for (const outcome of outcomes) expect(Object.values(patterns).some((p) => p.includes(`"${outcome}"`))).toBe(true);
    // No forwarder, no forwarder filters.
    expect(ofType(base.resources, 'AWS::Logs::MetricFilter')).toHaveLength(7);
  });
});

describe('without a forwarder', () => {
  it('deploys the receiver alone: one function, no event source, no forward URL secret, no custom resources', () => {
    base.template.resourceCountIs('AWS::Lambda::Function', 1);
    base.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    base.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(Object.keys(base.template.toJSON()['Outputs'] as object)).not.toContain('ForwardUrlSecretArn');
    const types = Object.values(base.resources).map((r) => r.Type);
    // e.g. CDK's LogRetention or AwsCustomResource providers would add Lambda functions of their own.
    expect(types.filter((type) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource')).toEqual([]);
  });
});

describe('with a forwarder', () => {
  it('deploys a forwarder told where its URL secret is and where to dead-letter, and no URL', () => {
    const { forwarder, forwardUrlSecret, deadLetterQueue } = ids(full.resources);
    full.template.resourceCountIs('AWS::Lambda::Function', 2);
    expect(forwardUrlSecret).toBeDefined();
    expect(full.resources[forwarder as string]?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 30,
      Handler: 'index.handler',
    });
    expect(full.resources[forwarder as string]?.Properties?.['Environment']).toEqual({
      Variables: {
        FORWARD_URL_SECRET_ARN: { Ref: forwardUrlSecret },
        DEAD_LETTER_QUEUE_URL: { Ref: deadLetterQueue },
      },
    });
    full.template.hasOutput('ForwardUrlSecretArn', { Value: { Ref: forwardUrlSecret } });
  });

  it('creates the URL secret with a placeholder the forwarder refuses, so nothing is posted until the operator puts the URL in', () => {
    const { forwardUrlSecret } = ids(full.resources);
    expect(full.resources[forwardUrlSecret as string]?.Properties).toMatchObject({ SecretString: FORWARD_URL_PLACEHOLDER });
    expect(() => forwardTarget(FORWARD_URL_PLACEHOLDER)).toThrow(/not a valid absolute URL/);
  });

  it('with forwardUrlSecretArn, reads that secret and creates none', () => {
    const { forwarder, forwardUrlSecret } = ids(existing.resources);
    expect(forwardUrlSecret).toBeUndefined();
    existing.template.resourceCountIs('AWS::SecretsManager::Secret', 1); // the signing secrets only
    expect(existing.resources[forwarder as string]?.Properties?.['Environment']?.Variables?.FORWARD_URL_SECRET_ARN).toBe(EXISTING_SECRET_ARN);
    existing.template.hasOutput('ForwardUrlSecretArn', { Value: EXISTING_SECRET_ARN });
  });

  it('puts no forward URL anywhere: not in the template, not in any environment', () => {
    for (const { template, resources } of [base, full, existing]) {
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toMatch(/https?:\/\/crm/);
      expect(text).not.toContain('FORWARD_URL"');
      for (const [, fn] of ofType(resources, 'AWS::Lambda::Function')) {
        const variables = (fn.Properties?.['Environment']?.Variables ?? {}) as Record<string, unknown>;
        expect(Object.keys(variables)).not.toContain('FORWARD_URL');
        for (const value of Object.values(variables)) expect(JSON.stringify(value)).not.toMatch(/https:\/\//);
      }
    }
  });

  it('refuses a forwardUrl (prop or context), without repeating it (it may carry a token)', () => {
    const viaProps = () => newStack(newApp(), { forwardUrl: FORWARD_URL } as ReceiverStackProps);
    expect(viaProps).toThrow(/forwardUrl is no longer taken.*ForwardUrlSecretArn/);
    expect(viaProps).not.toThrow(/token=abc|crm\.example/);
    const viaContext = () => readReceiverContext(new App({ context: { forwardUrl: FORWARD_URL } }).node);
    expect(viaContext).toThrow(/forwardUrl is no longer taken/);
    expect(viaContext).not.toThrow(/token=abc|crm\.example/);
  });

  it('refuses a forwardUrlSecretArn that is not a complete secret ARN', () => {
    for (const arn of ['crm/forward-url', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:crm/forward-url', 'arn:aws:sqs:eu-west-1:111122223333:q-AbC123']) {
      expect(() => newStack(newApp(), { forwardUrlSecretArn: arn })).toThrow(/forwardUrlSecretArn must be the complete ARN/);
    }
  });

  it('feeds it from the FIFO hand-off queue in batches of at most 10, without a batching window, reporting failures per item', () => {
    for (const { resources } of [full, existing]) {
      const { forwarder, queue } = ids(resources);
      const [, mapping] = only(ofType(resources, 'AWS::Lambda::EventSourceMapping'), 'event source mapping');
      expect(mapping.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
        FunctionName: { Ref: forwarder },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      // Lambda takes neither a batch over 10 nor a batching window on a FIFO queue.
      expect(mapping.Properties?.['BatchSize']).toBeLessThanOrEqual(10);
      expect(mapping.Properties?.['MaximumBatchingWindowInSeconds']).toBeUndefined();
      expect(resources[queue]?.Properties?.['FifoQueue']).toBe(true);
    }
  });

  it('refuses an alarmEmail that is not an address', () => {
    expect(() => newStack(newApp(), { alarmEmail: 'ops' })).toThrow(/alarmEmail is not an email address/);
  });
});

describe('outputs', () => {
  it('name the URL to subscribe, the secret to fill in, the table and both queues', () => {
    const { secret, table, queue, deadLetterQueue } = ids(base.resources);
    const [url] = only(ofType(base.resources, 'AWS::Lambda::Url'), 'function URL');
    base.template.hasOutput('FunctionUrl', { Value: { 'Fn::GetAtt': [url, 'FunctionUrl'] } });
    base.template.hasOutput('SecretArn', { Value: { Ref: secret } });
    base.template.hasOutput('SecretName', { Value: Match.anyValue() });
    base.template.hasOutput('TableName', { Value: { Ref: table } });
    base.template.hasOutput('QueueUrl', { Value: { Ref: queue } });
    base.template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: deadLetterQueue } });
  });
});

describe('concurrency', () => {
  it('reserves 20 executions for the receiver by default, a ceiling a flood of unsigned requests cannot pass', () => {
    const { receiver } = ids(base.resources);
    expect(base.resources[receiver as string]?.Properties?.['ReservedConcurrentExecutions']).toBe(DEFAULT_RECEIVER_CONCURRENCY);
    expect(DEFAULT_RECEIVER_CONCURRENCY).toBe(20);
  });

  it('caps the forwarders the hand-off queue runs at once (5 by default), so a backlog does not flood the CRM', () => {
    const [, mapping] = only(ofType(full.resources, 'AWS::Lambda::EventSourceMapping'), 'event source mapping');
    expect(mapping.Properties?.['ScalingConfig']).toEqual({ MaximumConcurrency: DEFAULT_FORWARDER_CONCURRENCY });
    expect(DEFAULT_FORWARDER_CONCURRENCY).toBe(5);
  });

  it('takes other values, or no reservation for an account whose limit leaves none to reserve', () => {
    const custom = synth({ forwarder: true, receiverConcurrency: 100, forwarderConcurrency: 2 });
    const { receiver } = ids(custom.resources);
    expect(custom.resources[receiver as string]?.Properties?.['ReservedConcurrentExecutions']).toBe(100);
    const [, mapping] = only(ofType(custom.resources, 'AWS::Lambda::EventSourceMapping'), 'event source mapping');
    expect(mapping.Properties?.['ScalingConfig']).toEqual({ MaximumConcurrency: 2 });
    const none = synth({ receiverConcurrency: 'none' });
    expect(none.resources[ids(none.resources).receiver as string]?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it.each([
    [{ receiverConcurrency: 0 }, /receiverConcurrency must be a whole number of at least 1, or none/],
    [{ receiverConcurrency: 2.5 }, /receiverConcurrency must be/],
    [{ forwarderConcurrency: 1 }, /forwarderConcurrency must be a whole number from 2 to 1000/],
    [{ forwarderConcurrency: 1001 }, /forwarderConcurrency must be/],
  ] as Array<[ReceiverStackProps, RegExp]>)('refuses %o at synth', (props, message) => {
    expect(() => newStack(newApp(), props)).toThrow(message);
  });

  it('reads both from context: a number, or none for the receiver', () => {
    expect(readReceiverContext(new App({ context: { receiverConcurrency: '50', forwarderConcurrency: 3 } }).node)).toEqual({ receiverConcurrency: 50, forwarderConcurrency: 3 });
    expect(readReceiverContext(new App({ context: { receiverConcurrency: 'none' } }).node)).toEqual({ receiverConcurrency: 'none' });
    expect(() => readReceiverContext(new App({ context: { forwarderConcurrency: 'lots' } }).node)).toThrow(/forwarderConcurrency must be a whole number/);
  });
});

describe('source maps', () => {
  const nodeOptions = (resources: Resources): unknown[] =>
    ofType(resources, 'AWS::Lambda::Function')
      .filter(([, fn]) => fn.Properties?.['Handler'] === 'index.handler')
      .map(([, fn]) => fn.Properties?.['Environment']?.Variables?.NODE_OPTIONS);

  it('are not loaded by default: Node would read and parse each map at every cold start', () => {
    expect(nodeOptions(full.resources)).toEqual([undefined, undefined]);
  });

  it('are loaded by both functions when the stack is asked (sourceMaps), from context too', () => {
    expect(nodeOptions(withSourceMaps.resources)).toEqual([SOURCE_MAPS_ENVIRONMENT.NODE_OPTIONS, SOURCE_MAPS_ENVIRONMENT.NODE_OPTIONS]);
    expect(SOURCE_MAPS_ENVIRONMENT.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(readReceiverContext(new App({ context: { sourceMaps: 'true' } }).node)).toEqual({ sourceMaps: true });
    expect(readReceiverContext(new App({ context: { sourceMaps: false } }).node)).toEqual({ sourceMaps: false });
    expect(() => readReceiverContext(new App({ context: { sourceMaps: 'on' } }).node)).toThrow(/sourceMaps must be true or false/);
  });
});

describe('app wiring', () => {
  it('reads forwarder, forwardUrlSecretArn, alarmEmail and stackName from context, an empty value counting as absent', () => {
    const app = new App({ context: { forwardUrl: '', forwarder: 'true', alarmEmail: ' ops@partner.example ', stackName: 'PartnerReceiver' } });
    expect(readReceiverContext(app.node)).toEqual({ forwarder: true, alarmEmail: 'ops@partner.example', stackName: 'PartnerReceiver' });
    expect(readReceiverContext(new App({ context: { forwarder: false, forwardUrlSecretArn: EXISTING_SECRET_ARN } }).node)).toEqual({
      forwarder: false,
      forwardUrlSecretArn: EXISTING_SECRET_ARN,
    });
    expect(() => readReceiverContext(new App({ context: { forwarder: 'yes' } }).node)).toThrow(/forwarder must be true or false/);
    expect(() => readReceiverContext(new App({ context: { forwardUrlSecretArn: 42 } }).node)).toThrow(/forwardUrlSecretArn must be a string/);
  });

  it('defaults to the real Lambda entries, which exist and export handler', () => {
    expect(relative(REPO_ROOT, DEFAULT_RECEIVER_ENTRY)).toBe(join('src', 'receiver', 'aws', 'receiver-lambda.ts'));
    expect(relative(REPO_ROOT, DEFAULT_FORWARDER_ENTRY)).toBe(join('src', 'receiver', 'aws', 'forwarder-lambda.ts'));
    for (const entry of [DEFAULT_RECEIVER_ENTRY, DEFAULT_FORWARDER_ENTRY]) {
      expect(existsSync(entry)).toBe(true);
      expect(readFileSync(entry, 'utf8')).toMatch(/export (const|async function|function) handler\b/);
    }
  });
});
