/**
 * AWS credentials for the Lambda functions, and only for them: Lambda always hands a function its
 * role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), which is also where the SDK's default chain looks first there.
 *
 * The Lambda bundles replace @aws-sdk/credential-provider-node (the default chain, imported by every
 * client whether it is used or not) with this module (an esbuild alias, infra/bundling.ts): the
 * chain's other sources (SSO and STS with their clients, ini files, instance metadata, processes,
 * web identity, login) are never reached on Lambda and were parsed at every cold start. Code that
 * runs elsewhere (the replay command, an operator's machine) keeps the SDK's own default chain.
 */
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';

export { fromEnv };

/** What the clients call when they are given no `credentials`: in the Lambda bundles, fromEnv. */
export const defaultProvider = (init?: FromEnvInit) => fromEnv(init);
