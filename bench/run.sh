#!/usr/bin/env bash
# Runs every benchmark: bench/*.ts with the pinned Deno, bench/*.py with /usr/bin/python3
# (client_py on PYTHONPATH). Benchmarks print figures and assert nothing; this script fails if
# one of them fails. Every benchmark takes `--scale X` (e.g. `bash bench/run.sh --scale 0.1`).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PYTHONPATH="$root/client_py${PYTHONPATH:+:$PYTHONPATH}"
shopt -s nullglob
benches=(bench/*.ts bench/*.py)
failed=()
for b in "${benches[@]}"; do
  echo "== $b =="
  case "$b" in
    *.ts) node_modules/.bin/deno run -A --no-check --v8-flags=--expose-gc "$b" "$@" ;;
    *) /usr/bin/python3 "$b" "$@" ;;
  esac || failed+=("$b")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench/run.sh: failed: ${failed[*]}"
  exit 1
fi
echo "bench/run.sh: ${#benches[@]} benchmark(s) done"
