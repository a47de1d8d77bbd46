/**
 * `libphonenumber-js/core` inside the Lambda bundles (an esbuild alias, infra/bundling.ts): the
 * library's own file beside the bundle (./library.ts), required when src/core first needs it.
 */
import type * as Library from './library';

// Left to Node at run time: infra/bundling.ts marks the path external and emits the file.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export = (require('./phone-library.js') as typeof Library).core;
