#!/usr/bin/env bash
# Runs the whole test suite N times on a fresh clone of this repository's HEAD, to find flaky
# tests:
#     bash tests/repeat.sh N [arguments of tests/run.sh ...]
# e.g. `bash tests/repeat.sh 5` or, for a quick check of this script itself,
# `RAIN_TEST_BUNDLE=0 bash tests/repeat.sh 1 -k hello`.
#
# The clone (git clone of the committed HEAD: uncommitted changes are not tested) lives in a
# temp dir, with a copy of this tree's node_modules (or `npm ci --offline` when there is none);
# `bash tests/run.sh ARGS` runs there N times, one after the other. Then it prints, for every test
# that failed in any run, a row with F (failed) or . per run, and exits 1 if any run failed.
# The temp dir is removed at the end.
#
# Environment: everything tests/run.sh reads (RAIN_TEST_BUNDLE, RAIN_TEST_TIMEOUT, ...), and
#   RAIN_REPEAT_LOGS=DIR   keep the full output of each run as DIR/run-<i>.log
set -uo pipefail

usage() { echo "usage: bash tests/repeat.sh N [arguments of tests/run.sh ...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
runs=$1
shift
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/rain-repeat-XXXXXX")"
# Readable by everyone, as a clone in a home or work directory is: the tests that run programs as
# an ordinary user need to read the repository (they skip otherwise).
chmod 755 "$work"
cleanup() {
  chmod -R u+w "$work" 2>/dev/null # governors leave read-only objects behind when killed
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

note() { echo "tests/repeat.sh: $*"; }

commit="$(git -C "$src" rev-parse HEAD)" || { note "not a git repository: $src"; exit 2; }
repo="$work/repo"
git clone --quiet --no-checkout "$src" "$repo" && git -C "$repo" checkout --quiet "$commit" ||
  { note "cannot clone $src"; exit 2; }
if [ -d "$src/node_modules" ]; then
  # A real copy (about 200 MB, a second or two): Deno may rewrite files of node_modules/.deno,
  # which must not change the source tree's.
  cp -a "$src/node_modules" "$repo/node_modules" || { note "cannot copy node_modules"; exit 2; }
else
  (cd "$repo" && { npm ci --offline --no-audit --no-fund || npm ci --no-audit --no-fund; }) ||
    { note "npm ci failed"; exit 2; }
fi
[ -z "${RAIN_REPEAT_LOGS:-}" ] || mkdir -p "$RAIN_REPEAT_LOGS"

# Names of the failed tests in a run's output, one per line: Deno tests as
# "deno ./file: name" (from the FAILURES section), pytest tests as "pytest tests/...::name"
# ("bundle" instead of "pytest" for the pass against dist/rain.js), and run.sh's own notes of
# failures without a test name (a crash, a time limit) as "run.sh: ...".
failures_of() {
  awk '
    /^== deno test ==$/ { pass = "deno"; next }
    /^== pytest ==$/ { pass = "pytest"; next }
    /^== deno task bundle/ { pass = "bundle"; next }
    pass == "deno" && /^ ?FAILURES ?$/ { in_failures = 1; next }
    pass == "deno" && /^(ok|FAILED) \| / { in_failures = 0 }
    in_failures && / => \.\/.*:[0-9]+:[0-9]+$/ {
      i = index($0, " => ")
      where = substr($0, i + 4); sub(/:[0-9]+:[0-9]+$/, "", where)
      print "deno " where ": " substr($0, 1, i - 1)
      next
    }
    (pass == "pytest" || pass == "bundle") && /^(FAILED|ERROR) tests\// {
      name = substr($0, index($0, " ") + 1)
      # "tests/x.py::test[params] - message": the params may hold " - " themselves.
      if (match(name, /^[^ []*\[[^]]*\]/)) name = substr(name, 1, RLENGTH)
      else sub(/ - .*/, "", name)
      print pass " " name
      next
    }
    /^tests\/run\.sh: .*(counted as [0-9]+ failure|crashed|did not finish)/ {
      sub(/^tests\/run\.sh: /, ""); print "run.sh: " $0
    }
  ' "$1" | sort -u
}

declare -a summaries
for ((i = 1; i <= runs; i++)); do
  log="$work/run-$i.log"
  note "run $i of $runs (commit ${commit:0:12}) ..."
  (cd "$repo" && bash tests/run.sh "$@") >"$log" 2>&1
  rc=$?
  failures_of "$log" >"$work/failed-$i.txt"
  if [ "$rc" -ne 0 ] && [ ! -s "$work/failed-$i.txt" ]; then
    echo "run.sh: exited with $rc ($(tail -n 1 "$log"))" >"$work/failed-$i.txt"
  fi
  summaries[i]="$(tail -n 1 "$log")"
  note "run $i: ${summaries[i]} (exit code $rc)"
  [ -z "${RAIN_REPEAT_LOGS:-}" ] || cp "$log" "$RAIN_REPEAT_LOGS/run-$i.log"
done

cat "$work"/failed-*.txt | sort -u >"$work/all-failed.txt"
echo
if [ ! -s "$work/all-failed.txt" ]; then
  echo "No test failed in $runs run(s) of commit ${commit:0:12}."
  exit 0
fi
echo "Tests that failed in any of $runs run(s) of commit ${commit:0:12} (F = failed):"
header="runs:"
for ((i = 1; i <= runs; i++)); do header+=" $((i % 10))"; done
echo "$header  failed  test"
while IFS= read -r name; do
  row="     "
  count=0
  for ((i = 1; i <= runs; i++)); do
    if grep -qxF -- "$name" "$work/failed-$i.txt"; then
      row+=" F"
      count=$((count + 1))
    else
      row+=" ."
    fi
  done
  printf '%s  %6s  %s\n' "$row" "$count/$runs" "$name"
done <"$work/all-failed.txt"
exit 1
