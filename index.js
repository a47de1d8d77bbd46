// Entry point Zapier loads (its CommonJS wrapper requires <root>/index.js and does
// not unwrap `.default`). The app itself is index.ts, compiled to dist/ by `npm run build`.
module.exports = require('./dist/index.js').default;
