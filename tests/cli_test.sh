#!/usr/bin/env bash
# The `diffeo` command line: exit codes and one-line errors on stderr.
# usage: cli_test.sh PATH_TO_DIFFEO
set -uo pipefail
diffeo="$1"
failures=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# expect CODE PATTERN_IN_OUTPUT -- ARGS...: exit code, and a pattern that stdout
# (exit 0) or the single stderr line (exit != 0) must match.
expect() {
  local code="$1" pattern="$2"; shift 3
  "$diffeo" "$@" >"$out" 2>"$err"
  local got=$?
  local where="$out"
  [ "$code" -ne 0 ] && where="$err"
  if [ "$got" -ne "$code" ]; then
    echo "FAIL: diffeo $* exited $got, expected $code"; failures=$((failures + 1)); return
  fi
  if ! grep -Eq "$pattern" "$where"; then
    echo "FAIL: diffeo $*: output lacks /$pattern/:"; cat "$where"; failures=$((failures + 1)); return
  fi
  if [ "$code" -ne 0 ] && [ "$(wc -l <"$err")" -ne 1 ]; then
    echo "FAIL: diffeo $*: expected one line on stderr:"; cat "$err"; failures=$((failures + 1)); return
  fi
  echo "ok: diffeo $*"
}

expect 0 '^0\.[0-9]+\.[0-9]+$' -- --version
expect 0 'Usage' -- --help
expect 0 'LibTorch 1\.' -- info
expect 2 '^diffeo: error: .*subcommand.*diffeo --help' --
expect 2 '^diffeo: error: .*nonsense' -- nonsense
expect 2 '^diffeo: error: .*--bogus' -- info --bogus

echo "$((6 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
