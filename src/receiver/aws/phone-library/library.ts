/**
 * The phone library as its own file beside each Lambda bundle (infra/bundling.ts builds this entry
 * into PHONE_LIBRARY.file). Inside the bundle, V8 parsed its ~128 KB at every cold start although
 * src/core requires it only when a record has a phone; as a separate file it is read and parsed at
 * that first phone instead. The same CommonJS builds the bundle took before (`require` picks them).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const max = require('libphonenumber-js/max') as typeof import('libphonenumber-js/max');
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const core = require('libphonenumber-js/core') as typeof import('libphonenumber-js/core');
