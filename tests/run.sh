#!/usr/bin/env bash
# Installs what the tests need (tools/install_test_deps.sh), then runs ALL tests of Rain:
# `deno task check` (one test), the Deno unit tests (`deno test -A`), then the Python suite
# (`/usr/bin/python3 -m pytest tests/`), and ends with one plain line:
#     N passed, N failed[, N skipped]
# (sums of both runners). Exits non-zero when a test failed or a runner crashed or timed out.
#
# A second pytest pass runs the tests that start `rain` processes against the single-file program
# (dist/rain.js, built here with `deno task bundle`; RAIN_TEST_BIN=tests/rain_bundle.sh), counted
# in the same line.
#
# Environment:
#   RAIN_TEST_BUNDLE=0    skip the pass against dist/rain.js
#   RAIN_TEST_TIMEOUT     per-test limit of pytest tests, seconds (default 300)
#   RAIN_DENO_TIMEOUT     limit of the whole `deno test` run, seconds (default 1200)
#   RAIN_PYTEST_TIMEOUT   limit of the whole pytest run, seconds (default 3000)
#   Extra arguments are passed to pytest (e.g. `bash tests/run.sh -k hello -x`).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$root/node_modules/.bin/deno"
python=/usr/bin/python3
export NO_COLOR=1

# Debian packages, the pinned Deno and the npm packages (skips what is already there).
bash "$root/tools/install_test_deps.sh" </dev/null || {
  echo "tests/run.sh: tools/install_test_deps.sh failed"
  exit 1
}
# node_modules/.bin/deno is a Node.js script starting the binary; use the binary (see ./rain).
[ -x "$root/node_modules/deno/deno" ] || "$deno" --version >/dev/null 2>&1 || true
[ -x "$root/node_modules/deno/deno" ] && deno="$root/node_modules/deno/deno"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Runs "$@" with a time limit, output to the terminal and to $out/$name.log. The output goes
# through a file (not a pipe) so that a stray background process still holding the output open
# cannot make this script wait forever.
run_logged() {
  local name=$1 limit=$2
  shift 2
  : >"$out/$name.log"
  timeout --kill-after=30 "$limit" "$@" >>"$out/$name.log" 2>&1 &
  local pid=$!
  tail -n +1 -f --pid="$pid" "$out/$name.log" &
  local tailpid=$!
  wait "$pid"
  local rc=$?
  wait "$tailpid" 2>/dev/null
  return $rc
}

passed=0 failed=0 skipped=0
note() { echo "tests/run.sh: $*"; }

# --- deno task check: formatting, lint, type check of every entry point (counted as one test) --
echo "== deno task check =="
if run_logged check 600 "$deno" task check; then
  passed=$((passed + 1))
else
  note "deno task check failed (fmt, lint or type check; see above); counted as 1 failure"
  failed=$((failed + 1))
fi

# --- Deno unit tests -------------------------------------------------------------------------
echo "== deno test =="
run_logged deno "${RAIN_DENO_TIMEOUT:-1200}" "$deno" test -A
rc=$?
summary="$(grep -E '^(ok|FAILED) \| ' "$out/deno.log" | tail -n 1)"
if [ -n "$summary" ]; then
  p=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '^[0-9]+' || echo 0)
  f=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '^[0-9]+' || echo 0)
  i=$(grep -oE '[0-9]+ ignored' <<<"$summary" | grep -oE '^[0-9]+' || echo 0)
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + i))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    note "deno test exited with $rc after its summary; counted as 1 failure"
    failed=$((failed + 1))
  fi
elif grep -q "No test modules found" "$out/deno.log"; then
  note "no Deno tests found"
else
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] &&
    note "deno test did not finish within ${RAIN_DENO_TIMEOUT:-1200} s"
  note "deno test crashed (exit code $rc, no summary); counted as 1 failure"
  failed=$((failed + 1))
fi

# --- Python tests ----------------------------------------------------------------------------
echo "== pytest =="
export PYTHONPATH="$root/client_py:$root/tools${PYTHONPATH:+:$PYTHONPATH}"
per_test="${RAIN_TEST_TIMEOUT:-300}"
if "$python" -c "import pytest_timeout" 2>/dev/null; then
  limit_args=(--timeout="$per_test")
else
  limit_args=(-p pytest_rain_timeout --rain-timeout="$per_test")
fi
# Adds the counts of the pytest run logged as $1 (exit code $2) to the totals.
count_pytest() {
  local name=$1 rc=$2 summary p f s
  # The last line of `pytest -q` is e.g. "3 failed, 10 passed, 2 skipped, 1 error in 4.2s".
  summary="$(grep -E '^=*[ ]*(no tests ran|[0-9]+ [a-z]+.* in [0-9.]+s)' "$out/$name.log" |
    tail -n 1)"
  count() { grep -oE "[0-9]+ ($1)\b" <<<"$summary" | awk '{ n += $1 } END { print n + 0 }'; }
  p=$(count 'passed|xpassed'); f=$(count 'failed|errors?'); s=$(count 'skipped|xfailed')
  p=${p:-0} f=${f:-0} s=${s:-0}
  case $rc in
    0 | 1 | 5)
      [ "$rc" -eq 5 ] && note "$name: no Python tests collected"
      if [ "$rc" -eq 1 ] && [ "$f" -eq 0 ]; then
        note "$name exited with 1 but no failure was counted; counted as 1 failure"
        f=1
      fi
      ;;
    124 | 137)
      note "$name did not finish within ${RAIN_PYTEST_TIMEOUT:-3000} s; counted as 1 failure"
      f=$((f + 1))
      ;;
    *)
      note "$name crashed or was interrupted (exit code $rc); counted as 1 failure"
      f=$((f + 1))
      ;;
  esac
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_logged pytest "${RAIN_PYTEST_TIMEOUT:-3000}" \
  "$python" -m pytest tests/ -q -p no:cacheprovider "${limit_args[@]}" "$@"
count_pytest pytest $?

# --- The single-file program: tests that start processes, against dist/rain.js ----------------
if [ "${RAIN_TEST_BUNDLE:-1}" != 0 ]; then
  echo "== deno task bundle, then pytest against dist/rain.js =="
  if run_logged bundle 600 "$deno" run -A tools/bundle.ts; then
    RAIN_TEST_BIN="$root/tests/rain_bundle.sh" RAIN_TEST_E2E_ONLY=1 \
      run_logged pytest-bundle "${RAIN_PYTEST_TIMEOUT:-3000}" \
      "$python" -m pytest tests/ -q -p no:cacheprovider "${limit_args[@]}" "$@"
    count_pytest pytest-bundle $?
  else
    note "deno task bundle failed; counted as 1 failure"
    failed=$((failed + 1))
  fi
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
