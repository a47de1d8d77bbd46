/**
 * The webhook receiver a partner deploys in their own AWS account:
 *
 *   platform ──signed delivery──▶ Function URL ─▶ receiver Lambda ─┬─ claims the event id (DynamoDB)
 *                                                                  ├─ reads the signing secrets (Secrets Manager)
 *                                                                  └─ hands the item off (SQS FIFO) ─▶ [forwarder Lambda ─▶ CRM webhook]
 *                                                                                                        └─ dead-letter queue (FIFO)
 *
 * The queues are FIFO so that a re-send of an event within 5 minutes is dropped by SQS (the
 * deduplication id is a hash of the event's name and id): a claim taken over after its completion
 * was lost (lease 30 s + answer 15 s) re-sends well inside that window. See docs/receiver.md,
 * "At most one message per event", for what is left (a takeover more than 5 minutes later).
 *
 * The forward URL (it often carries a token) is never in the template: the forwarder reads it from a
 * Secrets Manager secret, created here with a placeholder or passed in (forwardUrlSecretArn).
 *
 * Every role is written out by hand (no grantReadWriteData, no managed policies) so the template
 * shows exactly what each function may do; test/receiver/infra.test.ts pins it.
 */
import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { PRODUCTION_SCHEDULE } from '../src/contract/schedule';
import { LAMBDA_ALIAS_ARGS, LAMBDA_BUNDLE_SETTINGS, LAMBDA_EXTERNALS, NO_DYNAMIC_IMPORT, sideBundleCommands } from './bundling';
import { DEFAULT_FORWARDER_ENTRY, DEFAULT_RECEIVER_ENTRY, LOCK_FILE_PATH, REPO_ROOT } from './paths';

export interface ReceiverStackProps extends StackProps {
  /**
   * Deploy the forwarder, which posts items to the CRM webhook whose URL is in a Secrets Manager
   * secret: the stack creates one with a placeholder (put the URL in after deploy: output
   * ForwardUrlSecretArn), unless forwardUrlSecretArn names an existing one. Without either, no
   * forwarder is deployed.
   */
  readonly forwarder?: boolean;
  /**
   * The complete ARN of an existing secret whose SecretString is the forward URL (implies forwarder).
   * Encrypted with the AWS-managed key: a customer-managed key would also need kms:Decrypt.
   */
  readonly forwardUrlSecretArn?: string;
  /** Where alarm notifications go (an SNS email subscription the operator must confirm). */
  readonly alarmEmail?: string;
  /** Defaults to src/receiver/aws/receiver-lambda.ts; tests pass another existing file. */
  readonly receiverEntry?: string;
  /** Defaults to src/receiver/aws/forwarder-lambda.ts; tests pass another existing file. */
  readonly forwarderEntry?: string;
  /** The de-duplication table survives `cdk destroy` unless this says otherwise. */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * Concurrent executions reserved for the receiver, and its ceiling (default 20; 'none': no
   * reservation). The Function URL is public: without a ceiling, a flood of unsigned requests could
   * take the account's whole concurrency and its cost. AWS keeps 10 unreserved per account, so an
   * account whose limit is 10 (new accounts) needs 'none' until the limit is raised.
   */
  readonly receiverConcurrency?: number | 'none';
  /** Forwarder instances the hand-off queue may run at once (default 5, from 2 to 1000): a CRM is not flooded. */
  readonly forwarderConcurrency?: number;
  /**
   * Load the source maps (NODE_OPTIONS=--enable-source-maps), so logged stack traces name the
   * TypeScript files and lines. Off by default: it costs every cold start (docs/receiver.md). The
   * map ships in the asset either way (index.js.map), for mapping a trace by hand.
   */
  readonly sourceMaps?: boolean;
}

export const DEFAULT_RECEIVER_CONCURRENCY = 20;
export const DEFAULT_FORWARDER_CONCURRENCY = 5;

/** The platform gives up on an answer after 15 s: the receiver must answer (or fail) before that. */
export const RECEIVER_TIMEOUT = Duration.seconds(PRODUCTION_SCHEDULE.timeoutMs / 1000 - 1);
export const FORWARDER_TIMEOUT = Duration.seconds(30);
/**
 * AWS: a queue feeding Lambda needs a visibility timeout of at least six times the function's
 * timeout (plus the batching window, none on a FIFO queue), or a message still being worked on
 * (throttled, retried inside the poller) reappears and is processed twice.
 */
export const HANDOFF_VISIBILITY_TIMEOUT = Duration.seconds(6 * FORWARDER_TIMEOUT.toSeconds());
/**
 * Both queues take SQS's largest message, 1 MiB (raised from 256 KiB in 2025); the hand-off refuses
 * (413) an item larger than that (SQS_MAX_BYTES in src/receiver/aws/sqs-hand-off.ts, the same value).
 */
export const QUEUE_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Records per forwarder invocation: the most a FIFO event source takes. */
export const FORWARDER_BATCH_SIZE = 10;
export const METRIC_NAMESPACE = 'Ecologic/Receiver';
/** The receiver logs one JSON line per delivery with one of these `outcome`s (src/receiver/log.ts). */
export const REJECTED_SIGNATURE_PATTERN = '{ $.outcome = "rejected_signature" }';
export const UNAVAILABLE_PATTERN = '{ $.outcome = "unavailable" }';
/** An item reached the queue but its completion could not be recorded in the table. */
export const HANDOFF_UNRECORDED_PATTERN = '{ $.outcome = "handoff_unrecorded" }';
/** The other outcomes, counted for the dashboard: taken (200), deferred (429) and refused (413, 400). */
export const ACCEPTED_PATTERN = '{ $.outcome = "accepted" }';
export const DUPLICATE_PATTERN = '{ $.outcome = "duplicate" }';
export const IN_PROGRESS_PATTERN = '{ $.outcome = "in_progress" }';
export const REFUSED_PATTERN = '{ ($.outcome = "too_large") || ($.outcome = "not_events") || ($.outcome = "too_many_records") }';
/**
 * What the secret holds until the operator puts the real `whsec_…` secrets in. Not a `whsec_`
 * secret, so the receiver refuses to use it: it answers 503 (the platform retries for 24 h, nothing
 * is lost) and logs outcome "unavailable" naming the secret, which raises the Unavailable alarm.
 */
export const SECRET_PLACEHOLDER = 'not-configured';
/**
 * What the forward URL secret holds until the operator puts the URL in. Not a URL, so the forwarder
 * refuses it: every record fails and stays in the queue (its attempts count towards the dead-letter
 * queue, from where `replay` brings it back), and the forwarder logs a configuration error.
 */
export const FORWARD_URL_PLACEHOLDER = 'not-configured';

/** Bundling shared by both functions: infra/bundling.ts says why each setting. */
const BUNDLING: nodejs.BundlingOptions = {
  ...LAMBDA_BUNDLE_SETTINGS,
  mainFields: [...LAMBDA_BUNDLE_SETTINGS.mainFields],
  loader: { ...LAMBDA_BUNDLE_SETTINGS.loader },
  externalModules: [...LAMBDA_BUNDLE_SETTINGS.externalModules, ...LAMBDA_EXTERNALS],
  esbuildArgs: { ...NO_DYNAMIC_IMPORT.cliArgs, ...LAMBDA_ALIAS_ARGS },
  format: nodejs.OutputFormat.CJS,
  // The files the bundle requires from beside it (the phone library), built after it.
  commandHooks: {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => sideBundleCommands(inputDir, outputDir),
  },
};

/** What both functions share: Node.js 22 on arm64, bundled from the repository's lock file. */
const FUNCTION_BASE = {
  handler: 'handler',
  depsLockFilePath: LOCK_FILE_PATH,
  projectRoot: REPO_ROOT,
  runtime: lambda.Runtime.NODEJS_22_X,
  architecture: lambda.Architecture.ARM_64,
  bundling: BUNDLING,
} satisfies Partial<nodejs.NodejsFunctionProps>;

/**
 * Stack traces through the bundles' source maps, only when the stack is asked for them (sourceMaps):
 * Node then reads and parses each map at every cold start.
 */
export const SOURCE_MAPS_ENVIRONMENT = { NODE_OPTIONS: '--enable-source-maps' } as const;

/** A Secrets Manager secret's complete ARN: the name ends with `-` and six random characters. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;

const assertSecretArn = (value: string): void => {
  if (!SECRET_ARN.test(value)) {
    throw new Error(
      'forwardUrlSecretArn must be the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)',
    );
  }
};

/** A caller still passing the URL itself (props from JavaScript, or an old context value). */
const refuseForwardUrl = (props: object): void => {
  if ('forwardUrl' in props && (props as { forwardUrl?: unknown }).forwardUrl !== undefined) {
    // The value is not repeated: CRM webhook URLs often carry a token.
    throw new Error(FORWARD_URL_MOVED);
  }
};

export const FORWARD_URL_MOVED =
  'forwardUrl is no longer taken: the URL would be readable in the template and the function configuration. ' +
  'Deploy with forwarder=true and put the URL into the secret named by the ForwardUrlSecretArn output ' +
  '(aws secretsmanager put-secret-value), or pass forwardUrlSecretArn; see docs/receiver.md.';

const assertEmail = (value: string): void => {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) throw new Error('alarmEmail is not an email address');
};

/** Deliveries the forwarder attempts before SQS moves an item to the dead-letter queue. */
export const FORWARDER_ATTEMPTS = 8;

/** The forwarder logs one JSON line per record with one of these `outcome`s (src/receiver/aws/forwarder-lambda.ts). */
export const FORWARDED_PATTERN = '{ $.outcome = "delivered" }';
export const FORWARD_RETRY_PATTERN = '{ $.outcome = "retry" }';
/** Rejected by the CRM (a 4xx it will never accept) or unreadable: copied to the dead-letter queue at once. */
export const FORWARD_DEAD_LETTERED_PATTERN = '{ $.outcome = "dead_letter" }';
/** A record that failed its last attempt: SQS moves it to the dead-letter queue (redrive). */
export const FORWARD_GAVE_UP_PATTERN =
  `{ (($.outcome = "retry") || ($.outcome = "failed") || ($.outcome = "not_attempted")) && ($.receive_count >= ${FORWARDER_ATTEMPTS}) }`;
/** The forward URL is unusable (the placeholder, a bad value, an unreadable secret): whole batches fail. */
export const FORWARDER_MISCONFIGURED_PATTERN = '{ $.message = "forwarder misconfigured*" }';

export class ReceiverStack extends Stack {
  readonly receiver: nodejs.NodejsFunction;
  readonly forwarder: nodejs.NodejsFunction | undefined;
  readonly table: dynamodb.Table;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly secret: secretsmanager.Secret;
  /** The secret holding the forward URL, when there is a forwarder. */
  readonly forwardUrlSecret: secretsmanager.ISecret | undefined;

  constructor(scope: Construct, id: string, props: ReceiverStackProps = {}) {
    // Validate before creating anything, so a bad value fails `cdk synth` with this message.
    refuseForwardUrl(props);
    if (props.forwardUrlSecretArn !== undefined) assertSecretArn(props.forwardUrlSecretArn);
    if (props.alarmEmail !== undefined) assertEmail(props.alarmEmail);
    const receiverConcurrency = props.receiverConcurrency ?? DEFAULT_RECEIVER_CONCURRENCY;
    if (receiverConcurrency !== 'none' && !(Number.isInteger(receiverConcurrency) && receiverConcurrency >= 1)) {
      throw new Error(`receiverConcurrency must be a whole number of at least 1, or none (got ${String(receiverConcurrency)})`);
    }
    const forwarderConcurrency = props.forwarderConcurrency ?? DEFAULT_FORWARDER_CONCURRENCY;
    // SQS event sources take a maximum concurrency from 2 to 1000.
    if (!(Number.isInteger(forwarderConcurrency) && forwarderConcurrency >= 2 && forwarderConcurrency <= 1000)) {
      throw new Error(`forwarderConcurrency must be a whole number from 2 to 1000 (got ${String(forwarderConcurrency)})`);
    }
    super(scope, id, props);

    // No fixed name: a deleted secret keeps its name for its recovery window, which would block
    // re-deploying the stack; operators take the name from the SecretName output.
    this.secret = new secretsmanager.Secret(this, 'WebhookSecrets', {
      description:
        'Ecologic webhook signing secrets (whsec_…), space-separated: the current one, plus the previous one while a rotation is under way.',
      secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
    });

    this.table = new dynamodb.Table(this, 'DedupeTable', {
      partitionKey: { name: 'event_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // DynamoDB deletes expired items late (up to days): the store checks expiry itself too.
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Losing the table re-opens every remembered event to duplicates: keep it unless told.
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const fourteenDays = Duration.days(14);
    // FIFO, de-duplicated by the deduplication id each message carries (a hash of the event's name
    // and id), not by content. High-throughput mode: de-duplication and throughput per message group,
    // and each event is its own group, so no event waits behind another. A FIFO queue's dead-letter
    // queue must be FIFO too.
    const queueBase = {
      fifo: true,
      contentBasedDeduplication: false,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: fourteenDays,
    } satisfies sqs.QueueProps;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', queueBase);
    this.queue = new sqs.Queue(this, 'HandOffQueue', {
      ...queueBase,
      visibilityTimeout: HANDOFF_VISIBILITY_TIMEOUT,
      // The forwarder's attempts (FORWARD_SCHEDULE.maxAttempts in src/receiver/forward.ts, like the
      // local forwarder): its backoff follows the receive count, so the DLQ comes after the last one.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: FORWARDER_ATTEMPTS },
    });

    // --- receiver -------------------------------------------------------------------------------
    const receiverLogs = new logs.LogGroup(this, 'ReceiverLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.receiver = new nodejs.NodejsFunction(this, 'Receiver', {
      description: 'Ecologic webhook receiver: verifies, de-duplicates and hands off deliveries',
      ...FUNCTION_BASE,
      entry: props.receiverEntry ?? DEFAULT_RECEIVER_ENTRY,
      memorySize: 512,
      timeout: RECEIVER_TIMEOUT,
      ...(receiverConcurrency === 'none' ? {} : { reservedConcurrentExecutions: receiverConcurrency }),
      role: functionRole(this, 'ReceiverRole', receiverLogs),
      // The receiver writes raw JSON lines to stderr (src/receiver/log.ts), which the default text
      // log format keeps as they are: the metric filters below parse them.
      logGroup: receiverLogs,
      environment: {
        ECOLOGIC_SECRETS_ARN: this.secret.secretArn,
        DEDUPE_TABLE: this.table.tableName,
        HANDOFF_QUEUE_URL: this.queue.queueUrl,
        ...(props.sourceMaps === true ? SOURCE_MAPS_ENVIRONMENT : {}),
      },
    });
    // Exactly the calls the DynamoDB store makes: claim (conditional put/update), complete, release,
    // lookup, and the batch read of which events are handed off. No Query/Scan: the receiver never
    // lists events.
    this.receiver.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [this.table.tableArn],
      }),
    );
    this.receiver.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
    this.receiver.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.secret.secretArn] }),
    );

    // Public on purpose: the platform cannot sign AWS (SigV4) requests. Every delivery is
    // authenticated in code by its Standard Webhooks signature (HMAC over id, timestamp and body,
    // with the secrets above) before anything is stored or handed off; unsigned requests get 401
    // and count towards the RejectedSignatures alarm.
    const url = this.receiver.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.BUFFERED,
    });

    // --- optional forwarder -----------------------------------------------------------------------
    let forwarderLogs: logs.LogGroup | undefined;
    if (props.forwarder === true || props.forwardUrlSecretArn !== undefined) {
      // The URL is never in the template: a secret the operator fills in after deploy, or theirs.
      const forwardUrlSecret =
        props.forwardUrlSecretArn !== undefined
          ? secretsmanager.Secret.fromSecretCompleteArn(this, 'ForwardUrlSecret', props.forwardUrlSecretArn)
          : new secretsmanager.Secret(this, 'ForwardUrlSecret', {
              description: 'The CRM webhook URL the Ecologic forwarder posts items to (https://…; it may carry a token).',
              secretStringValue: SecretValue.unsafePlainText(FORWARD_URL_PLACEHOLDER),
            });
      this.forwardUrlSecret = forwardUrlSecret;
      forwarderLogs = new logs.LogGroup(this, 'ForwarderLogs', { retention: logs.RetentionDays.ONE_MONTH });
      this.forwarder = new nodejs.NodejsFunction(this, 'Forwarder', {
        description: 'Ecologic forwarder: posts handed-off items to the CRM webhook',
        ...FUNCTION_BASE,
        entry: props.forwarderEntry ?? DEFAULT_FORWARDER_ENTRY,
        memorySize: 256,
        timeout: FORWARDER_TIMEOUT,
        role: functionRole(this, 'ForwarderRole', forwarderLogs),
        logGroup: forwarderLogs,
        environment: {
          FORWARD_URL_SECRET_ARN: forwardUrlSecret.secretArn,
          DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
          ...(props.sourceMaps === true ? SOURCE_MAPS_ENVIRONMENT : {}),
        },
      });
      // Grants receive/delete/visibility/attributes on the hand-off queue. A FIFO event source takes
      // at most 10 records per batch and no batching window; Lambda hands over fewer records when
      // ten would pass the 6 MB invocation payload (ten 1 MiB messages would). Its concurrency is
      // at most the number of active message groups, here the events waiting.
      this.forwarder.addEventSource(
        new SqsEventSource(this.queue, {
          batchSize: FORWARDER_BATCH_SIZE,
          // A ceiling on forwarders at once, so a backlog does not fan out against the CRM.
          maxConcurrency: forwarderConcurrency,
          // One failed item is retried alone (with the later ones of its group), not with the rest.
          reportBatchItemFailures: true,
        }),
      );
      // The forward URL, read at the first batch and every few minutes after.
      this.forwarder.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [forwardUrlSecret.secretArn] }),
      );
      // Stated even though the event source grants it too: the forwarder's backoff depends on it.
      this.forwarder.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sqs:ChangeMessageVisibility'], resources: [this.queue.queueArn] }),
      );
      // A permanent failure (4xx from the CRM) goes straight to the dead-letter queue.
      this.forwarder.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
      );
    }

    // --- alarms -----------------------------------------------------------------------------------
    const fiveMinutes = Duration.minutes(5);
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (id: string, alarmProps: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, id, alarmProps);
      alarms.push(created);
      return created;
    };
    /** A count of the log lines matching pattern: the alarms sum it over 5 minutes, the dashboard per minute. */
    const countFilter = (id: string, logGroup: logs.ILogGroup, metricName: string, pattern: string): logs.MetricFilter =>
      new logs.MetricFilter(this, id, {
        logGroup,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricNamespace: METRIC_NAMESPACE,
        metricName,
        metricValue: '1',
        defaultValue: 0,
      });
    const rejectedSignatures = countFilter('RejectedSignaturesFilter', receiverLogs, 'RejectedSignatures', REJECTED_SIGNATURE_PATTERN);
    const unavailable = countFilter('UnavailableFilter', receiverLogs, 'Unavailable', UNAVAILABLE_PATTERN);
    const handOffUnrecorded = countFilter('HandOffUnrecordedFilter', receiverLogs, 'HandOffUnrecorded', HANDOFF_UNRECORDED_PATTERN);
    const fiveMinuteSum = { statistic: cloudwatch.Stats.SUM, period: fiveMinutes };

    alarm('DeadLetterAlarm', {
      alarmDescription: 'Items are in the dead-letter queue: they were not delivered and need an operator (replay or discard).',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('RejectedSignaturesAlarm', {
      alarmDescription:
        'Many deliveries failed signature verification: a missing or outdated secret (rotation), or someone probing the public URL.',
      metric: rejectedSignatures.metric(fiveMinuteSum),
      threshold: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('UnavailableAlarm', {
      alarmDescription:
        'The receiver could not reach its de-duplication table, queue or secret and answered 503: the platform retries, but not forever (24 h).',
      metric: unavailable.metric(fiveMinuteSum),
      threshold: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('HandOffUnrecordedAlarm', {
      alarmDescription:
        'An item reached the queue but its completion could not be recorded in the de-duplication table: a redelivery of that event ' +
        'more than 5 minutes after the send would be queued again. Check the table (throttling, errors, permissions).',
      metric: handOffUnrecorded.metric(fiveMinuteSum),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('ReceiverErrorsAlarm', {
      alarmDescription: 'The receiver function failed (crash or timeout): the platform saw no answer.',
      metric: this.receiver.metricErrors({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.forwarder) {
      alarm('ForwarderErrorsAlarm', {
        alarmDescription: 'The forwarder function failed as a whole (crash or timeout): its batch is retried.',
        metric: this.forwarder.metricErrors({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    if (props.alarmEmail !== undefined) {
      // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed aws/sns key,
      // and alarm notifications carry no delivery data.
      const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Ecologic receiver alarms' });
      topic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));
      const action = new cloudwatchActions.SnsAction(topic);
      for (const each of alarms) {
        each.addAlarmAction(action);
        each.addOkAction(action);
      }
      new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
    }

    // --- dashboard ----------------------------------------------------------------------------------
    // What an operator looks at first (docs/receiver.md, "The dashboard"): counts per minute, queue
    // depths at their maximum in the minute, the receiver's duration at p50 and p99. Dashboards are
    // global to the account, so the name carries the region too: two regions' stacks do not collide.
    const oneMinute = Duration.minutes(1);
    const perMinute = { statistic: cloudwatch.Stats.SUM, period: oneMinute };
    const deepest = { statistic: cloudwatch.Stats.MAXIMUM, period: oneMinute };
    const count = (filter: logs.MetricFilter, label: string, color?: string): cloudwatch.IMetric =>
      filter.metric({ ...perMinute, label, ...(color !== undefined ? { color } : {}) });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-${this.region}`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `**${this.stackName}**: the Ecologic webhook receiver. Made by the CDK stack: changes made here are lost at the next deploy. ` +
          'What each widget shows and what to do when a number moves: docs/receiver.md, "The dashboard".',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }));
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Deliveries by outcome (per minute)',
        width: 12,
        // Not stacked: a hand-off unrecorded is also logged as accepted, the sum would count it twice.
        left: [
          count(countFilter('AcceptedFilter', receiverLogs, 'Accepted', ACCEPTED_PATTERN), 'accepted (200)', cloudwatch.Color.GREEN),
          count(countFilter('DuplicatesFilter', receiverLogs, 'Duplicates', DUPLICATE_PATTERN), 'duplicate (200)', cloudwatch.Color.BLUE),
          count(countFilter('InProgressFilter', receiverLogs, 'InProgress', IN_PROGRESS_PATTERN), 'in progress (429)', cloudwatch.Color.GREY),
          count(rejectedSignatures, 'rejected signature (401)', cloudwatch.Color.ORANGE),
          count(countFilter('RefusedFilter', receiverLogs, 'Refused', REFUSED_PATTERN), 'refused (413, 400)', cloudwatch.Color.PINK),
          count(unavailable, 'unavailable (503)', cloudwatch.Color.RED),
          count(handOffUnrecorded, 'hand-off unrecorded', cloudwatch.Color.PURPLE),
        ],
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Rejected signatures (per minute)',
        width: 6,
        left: [count(rejectedSignatures, 'rejected signature (401)', cloudwatch.Color.ORANGE)],
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.SingleValueWidget({
        title: 'Waiting now',
        width: 6,
        metrics: [
          this.queue.metricApproximateNumberOfMessagesVisible({ ...deepest, label: 'hand-off queue' }),
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...deepest, label: 'dead letters' }),
        ],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Hand-off queue',
        width: 12,
        left: [
          this.queue.metricApproximateNumberOfMessagesVisible({ ...deepest, label: 'waiting' }),
          // Messages backing off after a failed forward are invisible until their retry.
          this.queue.metricApproximateNumberOfMessagesNotVisible({ ...deepest, label: 'in flight or backing off' }),
        ],
        right: [this.queue.metricApproximateAgeOfOldestMessage({ ...deepest, label: 'oldest (s)' })],
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue',
        width: 12,
        left: [this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...deepest, label: 'dead letters', color: cloudwatch.Color.RED })],
        right: [this.deadLetterQueue.metricApproximateAgeOfOldestMessage({ ...deepest, label: 'oldest (s)' })],
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
      }),
    );
    if (this.forwarder && forwarderLogs) {
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Forwarder: items (per minute)',
          width: 12,
          left: [
            count(countFilter('ForwardedFilter', forwarderLogs, 'Forwarded', FORWARDED_PATTERN), 'delivered', cloudwatch.Color.GREEN),
            count(countFilter('ForwardRetriesFilter', forwarderLogs, 'ForwardRetries', FORWARD_RETRY_PATTERN), 'retried', cloudwatch.Color.ORANGE),
            count(countFilter('ForwardDeadLetteredFilter', forwarderLogs, 'ForwardDeadLettered', FORWARD_DEAD_LETTERED_PATTERN), 'gave up: rejected', cloudwatch.Color.RED),
            count(countFilter('ForwardGaveUpFilter', forwarderLogs, 'ForwardGaveUp', FORWARD_GAVE_UP_PATTERN), 'gave up: last attempt failed', cloudwatch.Color.PURPLE),
            count(countFilter('ForwarderMisconfiguredFilter', forwarderLogs, 'ForwarderMisconfigured', FORWARDER_MISCONFIGURED_PATTERN), 'batches failed: forward URL unusable', cloudwatch.Color.BROWN),
          ],
          leftYAxis: { min: 0 },
        }),
        new cloudwatch.GraphWidget({
          title: 'Forwarder function',
          width: 12,
          left: [
            this.forwarder.metricInvocations({ ...perMinute, label: 'invocations' }),
            this.forwarder.metricErrors({ ...perMinute, label: 'errors', color: cloudwatch.Color.RED }),
            this.forwarder.metricThrottles({ ...perMinute, label: 'throttles', color: cloudwatch.Color.ORANGE }),
          ],
          right: [this.forwarder.metricDuration({ statistic: cloudwatch.Stats.percentile(99), period: oneMinute, label: 'duration p99 (ms)' })],
          rightAnnotations: [{ value: FORWARDER_TIMEOUT.toMilliseconds(), label: 'timeout' }],
          leftYAxis: { min: 0 },
          rightYAxis: { min: 0 },
        }),
      );
    }
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Receiver duration (ms)',
        width: 12,
        left: [
          this.receiver.metricDuration({ statistic: cloudwatch.Stats.percentile(50), period: oneMinute, label: 'p50' }),
          this.receiver.metricDuration({ statistic: cloudwatch.Stats.percentile(99), period: oneMinute, label: 'p99' }),
        ],
        // The platform gives up at 15 s; the function stops at its timeout.
        leftAnnotations: [{ value: RECEIVER_TIMEOUT.toMilliseconds(), label: 'timeout', color: cloudwatch.Color.RED }],
        leftYAxis: { min: 0 },
      }),
      new cloudwatch.GraphWidget({
        title: 'Receiver function',
        width: 12,
        left: [
          this.receiver.metricInvocations({ ...perMinute, label: 'invocations' }),
          this.receiver.metricErrors({ ...perMinute, label: 'errors', color: cloudwatch.Color.RED }),
          this.receiver.metricThrottles({ ...perMinute, label: 'throttles', color: cloudwatch.Color.ORANGE }),
        ],
        right: [this.receiver.metric('ConcurrentExecutions', { ...deepest, label: 'concurrent executions' })],
        ...(receiverConcurrency === 'none'
          ? {}
          : { rightAnnotations: [{ value: receiverConcurrency, label: 'reserved concurrency' }] }),
        leftYAxis: { min: 0 },
        rightYAxis: { min: 0 },
      }),
    );

    new CfnOutput(this, 'FunctionUrl', { value: url.url, description: 'Subscribe this URL as the webhook endpoint' });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn });
    new CfnOutput(this, 'SecretName', {
      value: this.secret.secretName,
      description: 'Put the whsec_ secret(s) here, space-separated, after subscribing',
    });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboardName, description: 'The CloudWatch dashboard (docs/receiver.md, "The dashboard")' });
    if (this.forwardUrlSecret) {
      new CfnOutput(this, 'ForwardUrlSecretArn', {
        value: this.forwardUrlSecret.secretArn,
        description: 'Put the CRM webhook URL here (aws secretsmanager put-secret-value); the forwarder reads it within minutes',
      });
    }
  }
}

/**
 * A function role without the AWS-managed basic execution policy (logs:* on every log group):
 * the function writes to its own log group and nowhere else.
 */
const functionRole = (scope: Construct, id: string, logGroup: logs.LogGroup): iam.Role => {
  const role = new iam.Role(scope, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
  );
  return role;
};
