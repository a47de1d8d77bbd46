/**
 * `@smithy/core/event-streams` inside the Lambda bundles (an esbuild alias, infra/bundling.ts). The
 * SDK's protocols load it only for an operation that streams events, and none of the DynamoDB, SQS
 * and Secrets Manager calls the Lambdas make does; inside the bundle its ~15 KB, and the CRC32
 * checksum it brings (which loads node:zlib), were parsed and run at every cold start. Should an
 * operation ever need it, the call fails loudly here instead of misbehaving.
 */
const leftOut = (): never => {
  throw new Error('AWS SDK event streams are left out of the Lambda bundles (infra/bundling.ts): no operation they call streams events');
};

export class EventStreamSerde {
  constructor() {
    leftOut();
  }
}

export const eventStreamSerdeProvider = (): never => leftOut();
