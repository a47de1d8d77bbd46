#!/usr/bin/env bash
# The Zapier CLI checks that work without Zapier's servers: the schema validation, and an offline
# build whose own smoke test loads the built zip (zapierwrapper.js and index.js) on Node 22.
set -euo pipefail
cd "$(dirname "$0")/.."
export DISABLE_ZAPIER_ANALYTICS=1 NO_UPDATE_NOTIFIER=1
# The CLI unpacks into the temp folder; keep it inside the project.
export TMPDIR="$PWD/.tmp/zapier"
mkdir -p "$TMPDIR"
npx --no-install zapier-platform validate --without-style
npx --no-install zapier-platform build --skip-dep-install --skip-validation
ls -l build/build.zip
