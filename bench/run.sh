#!/usr/bin/env bash
# Runs every benchmark bench/*.py with /usr/bin/python3 (client_py on PYTHONPATH).
# Benchmarks print figures and assert nothing; this script fails if one of them fails.
# Arguments are passed to every benchmark (e.g. `bash bench/run.sh --scale 0.1`).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PYTHONPATH="$root/client_py${PYTHONPATH:+:$PYTHONPATH}"
shopt -s nullglob
benches=(bench/*.py)
if [ ${#benches[@]} -eq 0 ]; then
  echo "bench/run.sh: no benchmarks yet (bench/*.py)"
  exit 0
fi
failed=()
for b in "${benches[@]}"; do
  echo "== $b =="
  /usr/bin/python3 "$b" "$@" || failed+=("$b")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench/run.sh: failed: ${failed[*]}"
  exit 1
fi
echo "bench/run.sh: ${#benches[@]} benchmark(s) done"
