#!/usr/bin/env bash
# `rain` as the single-file program: runs dist/rain.js (built by `deno task bundle`) with the
# pinned Deno and no config file, exactly as it is shipped (`deno run -A dist/rain.js …`).
# tests/run.sh points RAIN_TEST_BIN here for its end-to-end pass against the bundle; by hand:
#     deno task bundle && RAIN_TEST_BIN=tests/rain_bundle.sh python3 -m pytest tests/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deno="$root/node_modules/deno/deno"
[ -x "$deno" ] || deno="$root/node_modules/.bin/deno"
exec "$deno" run -A --unstable-worker-options --no-config --quiet "$root/dist/rain.js" "$@"
