/**
 * CDK app entry: one stack, `EcologicReceiver` (or `-c stackName=…`).
 *
 * How it runs, without ts-node: cdk.json has `"build": "npx tsc -p infra/tsconfig.json"` and
 * `"app": "node dist/infra/app.js"`. The CDK CLI runs "build" before every synth/diff/deploy, so
 * `npx cdk synth` works from a fresh clone after `npm ci` and never runs a stale dist/ (no need for
 * `npm run build` first, though it does no harm). That build compiles only infra/ and the few src/
 * modules it imports (~5 s, versus ~20 s for the whole project), so unrelated type errors elsewhere
 * do not block a deploy. NodejsFunction then bundles the two Lambda entries straight from their
 * TypeScript sources with the project's esbuild (no Docker).
 *
 *   npx cdk synth
 *   npx cdk deploy -c forwarder=true -c alarmEmail=ops@example.com
 *   aws secretsmanager put-secret-value --secret-id <ForwardUrlSecretArn output> --secret-string file://forward-url.txt
 *
 * Context: forwarder (true: deploys the forwarder, whose URL is in a Secrets Manager secret, never
 * in the template), forwardUrlSecretArn (an existing secret holding the URL; implies forwarder),
 * alarmEmail (SNS email for the alarms), stackName, receiverConcurrency, forwarderConcurrency, sourceMaps (true: stack
 * traces through the source maps, at a cold-start cost; see infra/bundling.ts). Account and region come from the CLI's credentials/profile (CDK_DEFAULT_*). Offline,
 * with no credentials, the account stays unresolved (${AWS::AccountId}) and the CLI falls back to
 * us-east-1 for the region unless AWS_REGION or a profile names one; deploy with the target
 * account's credentials (after `npx cdk bootstrap` once per account/region).
 */
import { App } from 'aws-cdk-lib';
import { readReceiverContext } from './config';
import { ReceiverStack } from './receiver-stack';

const app = new App();
const { stackName, ...choices } = readReceiverContext(app.node);

new ReceiverStack(app, 'EcologicReceiver', {
  ...choices,
  ...(stackName !== undefined ? { stackName } : {}),
  env: { account: process.env['CDK_DEFAULT_ACCOUNT'], region: process.env['CDK_DEFAULT_REGION'] },
  description: 'Ecologic webhook receiver (Function URL, DynamoDB de-duplication, SQS hand-off)',
});
