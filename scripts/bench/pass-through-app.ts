// The floor of the per-delivery and bundle figures: an app whose one hook trigger returns the
// delivery untouched. No imports, so the bench can copy the compiled file into the bare app and
// child processes can load it next to whichever zapier-platform-core they measure.

type Perform = (z: unknown, bundle: { cleanedRequest?: unknown }) => unknown[];

export const passThroughPerform: Perform = (_z, bundle) => [bundle.cleanedRequest];

export const passThroughApp = (platformVersion: string, version = '1.0.0') => ({
  version,
  platformVersion,
  triggers: {
    passthrough: {
      key: 'passthrough',
      noun: 'Event',
      display: { label: 'Pass-through', description: 'Triggers when anything is delivered, and returns it as it is.' },
      operation: {
        type: 'hook',
        perform: passThroughPerform,
        performList: () => [],
        performSubscribe: () => ({}),
        performUnsubscribe: () => ({}),
      },
    },
  },
});
