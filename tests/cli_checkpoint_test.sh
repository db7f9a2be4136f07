#!/usr/bin/env bash
# `diffeo train`'s checkpoints: a run paused with --stop-after and resumed
# writes the same model file, byte for byte, as one uninterrupted run; SIGINT
# and SIGTERM save a checkpoint and exit 130 / 143; a resume with other options
# or without a checkpoint is refused.
# usage: cli_checkpoint_test.sh PATH_TO_DIFFEO
source "$(dirname "$0")/cli_lib.sh" "$1"

awk 'BEGIN { srand(7); print "a,b"; for (i = 0; i < 500; i++) { x = 2 * rand() - 1; printf "%.6f,%.6f\n", x, x * x + 0.1 * rand() } }' >"$tmp/d.csv"
base=(train --data "$tmp/d.csv" --flow maf --layers 2 --batch-size 64 --quiet)
run=("${base[@]}" --hidden 8 --steps 200)

expect 0 'trained maf .*: 200 steps' -- "${run[@]}" --out "$tmp/one.flow"
expect 0 "paused at step 100 of 200 .*checkpoint saved to .*two\.flow\.ckpt; continue with the same command and --resume" \
  -- "${run[@]}" --stop-after 100 --out "$tmp/two.flow"
check "a paused run leaves its checkpoint and no model" test -s "$tmp/two.flow.ckpt" -a ! -e "$tmp/two.flow"
expect 1 "cannot resume from '.*two\.flow\.ckpt': it was written with steps = 200, this run has 300" \
  -- "${base[@]}" --hidden 8 --steps 300 --resume --out "$tmp/two.flow"
expect 1 "cannot resume .*another model" -- "${base[@]}" --hidden 16 --steps 200 --resume --out "$tmp/two.flow"
expect 0 'trained maf .*: 200 steps' -- "${run[@]}" --resume --out "$tmp/two.flow"
check "100 + 100 steps with a resume give the model file of 200 steps, byte for byte" \
  cmp "$tmp/one.flow" "$tmp/two.flow"
check "the checkpoint is removed once the model is saved" test ! -e "$tmp/two.flow.ckpt"

# Fresh batches of a toy density resume exactly too (their generator is saved).
toy=(train --density banana --flow realnvp --hidden 8 --layers 2 --steps 60 --quiet)
expect 0 'trained realnvp' -- "${toy[@]}" --out "$tmp/t1.flow"
expect 0 'paused at step 25 of 60' -- "${toy[@]}" --stop-after 25 --checkpoint "$tmp/toy.ckpt" --out "$tmp/t2.flow"
expect 0 'trained realnvp' -- "${toy[@]}" --resume --checkpoint "$tmp/toy.ckpt" --out "$tmp/t2.flow"
check "the toy run resumed to the same model" cmp "$tmp/t1.flow" "$tmp/t2.flow"

expect 1 "--resume: there is no checkpoint '.*never\.flow\.ckpt'" -- "${run[@]}" --resume --out "$tmp/never.flow"
expect 2 '--stop-after must be >= 0' -- "${run[@]}" --stop-after -1 --out "$tmp/never.flow"
expect 2 '--checkpoint-minutes must be >= 0' -- "${run[@]}" --checkpoint-minutes -2 --out "$tmp/never.flow"
expect 1 "is not a training checkpoint \(it is a model file\)" \
  -- "${run[@]}" --resume --checkpoint "$tmp/one.flow" --out "$tmp/never.flow"

# A learning rate far too high: the NaN guard stops the run, no model is
# written and an earlier one survives.
cp "$tmp/one.flow" "$tmp/keep.flow"
expect 1 "training diverged: 20 steps in a row .*lower the learning rate \(now 1e\+06\)" \
  -- "${run[@]}" --lr 1e6 --out "$tmp/keep.flow"
check "a diverged run leaves the previous model file as it was" cmp "$tmp/one.flow" "$tmp/keep.flow"

# interrupt SIGNAL CODE [ARGS]: a long run, stopped by SIGNAL once it has
# written a periodic checkpoint (so it is training: each write is a new file,
# renamed into place), must exit CODE with one line on stderr and leave a
# checkpoint.
inode() { stat -c %i "$tmp/long.flow.ckpt" 2>/dev/null || echo none; }
interrupt() {
  local signal="$1" code="$2"; shift 2
  checks=$((checks + 1))
  local before
  before=$(inode)
  "$diffeo" "${base[@]}" --hidden 8 --steps 1000000 --checkpoint-every 20 "$@" --out "$tmp/long.flow" \
    >"$out" 2>"$err" &
  local pid=$!
  for _ in $(seq 600); do [ "$(inode)" != "$before" ] && break; sleep 0.05; done
  kill "-$signal" "$pid"
  wait "$pid"
  local got=$?
  if [ "$got" -ne "$code" ]; then fail "SIG$signal: exit $got, expected $code"; cat "$err"; return; fi
  if ! grep -Eq "^diffeo: train: interrupted at step [0-9]+ of 1000000; checkpoint saved to '.*long\.flow\.ckpt'; continue with the same command and --resume$" "$err" ||
    [ "$(wc -l <"$err")" -ne 1 ]; then
    fail "SIG$signal: expected one line saying where the checkpoint is:"; cat "$err"; return
  fi
  echo "ok: SIG$signal saves a checkpoint and exits $code"
}
step_of() { grep -Eo 'at step [0-9]+' "$err" | grep -Eo '[0-9]+'; }
interrupt INT 130
first=$(step_of)
check "the interrupted run left a checkpoint and no model" test -s "$tmp/long.flow.ckpt" -a ! -e "$tmp/long.flow"
interrupt TERM 143 --resume
check "the resumed run went on from step $first (to step $(step_of))" test "$(step_of)" -gt "$first"

check "no partial or temporary files" only_files 'd\.csv|one\.flow|keep\.flow|two\.flow|t1\.flow|t2\.flow|long\.flow\.ckpt'
finish
