#!/usr/bin/env bash
# `rain start --runprefix tools/cpu_prof.sh`: runs each `deno run …` that rain start launches
# (server, governors) with `--cpu-prof` into $RAIN_BENCH_PROFILE (V8 cpu profiles, written when
# the process exits; open them in Chrome's DevTools or read them with tools/cpu_profile.ts).
set -euo pipefail
deno="$1"
shift
[ "${1:-}" = run ] && shift
exec "$deno" run --cpu-prof --cpu-prof-dir="${RAIN_BENCH_PROFILE:?set RAIN_BENCH_PROFILE=DIR}" "$@"
