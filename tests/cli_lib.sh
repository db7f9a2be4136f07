# The helpers of the `diffeo` command-line tests (cli_test.sh, cli_error_test.sh).
# Sourced with the path of the diffeo binary as $1: sets diffeo, a scratch
# directory $tmp (removed on exit) and the counters that `finish` reports.
set -uo pipefail
diffeo="$1"
checks=0 failures=0
tmp=$(mktemp -d)
logs=$(mktemp -d)  # the background cases' outputs, outside $tmp's listing
out="$tmp/stdout" err="$tmp/stderr"
trap 'wait; rm -rf "$tmp" "$logs"' EXIT
# A command that runs diffeo, e.g. (with_file_limit) to run it under ulimit -f;
# empty: diffeo itself.
launcher=()
# 1: `expect` runs its case in the background (at most $jobs_max at once) and
# `settle` reports it; only for cases that need no file another case makes.
background=0
jobs_max=$(nproc)

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run_case STDOUT STDERR CODE PATTERN -- ARGS...: runs diffeo ARGS into the two
# files and prints "ok: ..." or "FAIL: ..." with the output at fault; status 1
# on failure.
run_case() {
  local o="$1" e="$2" code="$3" pattern="$4"; shift 5
  "${launcher[@]}" "$diffeo" "$@" >"$o" 2>"$e"
  local got=$? where="$o"
  [ "$code" -ne 0 ] && where="$e"
  if [ "$got" -ne "$code" ]; then
    echo "FAIL: diffeo $* exited $got, expected $code"; cat "$e"; return 1
  fi
  if ! grep -Eq -e "$pattern" "$where"; then
    echo "FAIL: diffeo $*: output lacks /$pattern/:"; cat "$where"; return 1
  fi
  if [ "$code" -ne 0 ] && [ "$(wc -l <"$e")" -ne 1 ]; then
    echo "FAIL: diffeo $*: expected one line on stderr:"; cat "$e"; return 1
  fi
  echo "ok: diffeo $*"
  [ -z "${VERBOSE:-}" ] || cat "$e"
}

# expect CODE PATTERN_IN_OUTPUT -- ARGS...: exit code, and a pattern that stdout
# (exit 0) or the single stderr line (exit != 0) must match.  In the
# foreground the outputs stay in $out and $err for further checks.
expect() {
  checks=$((checks + 1))
  if [ "$background" -eq 1 ]; then
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
    run_case "$logs/$checks.out" "$logs/$checks.err" "$@" >"$logs/$checks.log" 2>&1 &
    return
  fi
  run_case "$out" "$err" "$@" || failures=$((failures + 1))
}

# settle: waits for the background cases and reports them in order.
settle() {
  wait
  local n
  for ((n = 1; n <= checks; n++)); do
    [ -f "$logs/$n.log" ] || continue
    cat "$logs/$n.log"
    grep -q '^FAIL' "$logs/$n.log" && failures=$((failures + 1))
    rm -f "$logs/$n".*
  done
}

# check DESCRIPTION COMMAND...: a shell condition on the files written.
check() {
  local what="$1"; shift
  checks=$((checks + 1))
  if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

# only_files PATTERN: the scratch directory holds nothing but the names that
# the extended regex PATTERN matches in full (and stdout, stderr): no partial
# or temporary output files.
only_files() {
  local left
  left=$(cd "$tmp" && ls -A | grep -Ev "^(stdout|stderr|$1)\$")
  [ -z "$left" ] || { echo "unexpected files: $left"; return 1; }
}

# finish: the summary line; the exit status says whether every check passed.
finish() {
  settle
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" -eq 0 ]
}
