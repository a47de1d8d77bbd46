#!/usr/bin/env bash
# The Zapier CLI checks that work without Zapier's servers: the schema validation, and an offline
# build whose own smoke test loads the built zip (zapierwrapper.js and index.js) on Node 22.
# The build is made from a staged copy of the project with production dependencies only, as
# `zapier-platform push` makes it (scripts/zapier-offline-build.ts), and must hold no receiver code
# or dev-only package; the zip is copied to build/build.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
export DISABLE_ZAPIER_ANALYTICS=1 NO_UPDATE_NOTIFIER=1
# The CLI unpacks into the temp folder; keep it inside the project.
export TMPDIR="$PWD/.tmp/zapier"
mkdir -p "$TMPDIR"
# tsc once, for the app alone (the `_zapier-build` hook's work): validate and the staged build both
# use this dist/. `npm run typecheck` has checked everything else.
npm run -s build:app
npx --no-install zapier-platform validate --without-style --skip-build
npx --no-install node scripts/bundle-entry.cjs zapier-offline-build
npx --no-install node .tmp/run/zapier-offline-build.js
ls -l build/build.zip
