#!/usr/bin/env bash
# `diffeo train --nproc`: data-parallel workers end where one process does; a
# worker killed mid-run ends the run within 60 s with a message naming its
# rank, and the checkpoint written before resumes to the model file of an
# uninterrupted run, byte for byte; Ctrl-C stops all workers with a
# checkpoint; the launcher's options are checked; two "machines" (network
# namespaces joined by a veth pair, where this user may create them) train
# together over TCP.
# usage: cli_distributed_test.sh PATH_TO_DIFFEO
source "$(dirname "$0")/cli_lib.sh" "$1"

awk 'BEGIN { srand(11); print "a,b"; for (i = 0; i < 2000; i++) { x = 2 * rand() - 1; printf "%.6f,%.6f\n", x, x * x + 0.1 * rand() } }' >"$tmp/d.csv"
run=(train --data "$tmp/d.csv" --flow realnvp --layers 2 --hidden 8 --batch-size 64 --quiet)

# nll MODEL: the model's mean negative log-likelihood on the data.
nll() { "$diffeo" eval --model "$1" --data "$tmp/d.csv" --json | sed 's/.*"nll":\([^,]*\),.*/\1/'; }
# same_nll A B: the two models' NLLs agree to 1e-4 (float32 sums in another order).
same_nll() { awk -v a="$(nll "$1")" -v b="$(nll "$2")" 'BEGIN { d = a - b; exit !(d < 1e-4 && d > -1e-4) }'; }

expect 0 'trained realnvp .*: 300 steps' -- "${run[@]}" --steps 300 --out "$tmp/one.flow"
expect 0 'trained realnvp .*: 300 steps' -- "${run[@]}" --steps 300 --nproc 2 --out "$tmp/two.flow"
check "2 workers sharing the global batch reach one process's NLL" same_nll "$tmp/one.flow" "$tmp/two.flow"
check "only rank 0 wrote: the models and no checkpoint are left" only_files "d.csv|one.flow|two.flow"

# An external launcher (torchrun, SLURM) only sets the variables: two plain
# `diffeo train` processes join as ranks 0 and 1.
port=$((20000 + $$ % 20000))
for rank in 1 0; do
  WORLD_SIZE=2 RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port timeout 120 \
    "$diffeo" "${run[@]}" --steps 300 --out "$tmp/external.flow" >"$tmp/rank$rank.out" 2>&1 &
done
wait
check "two processes started with torchrun's variables train together" same_nll "$tmp/one.flow" "$tmp/external.flow"
check "rank 0 alone printed the summary" grep -q "trained realnvp" "$tmp/rank0.out"
check "rank 1 printed nothing" test ! -s "$tmp/rank1.out"
rm -f "$tmp/rank0.out" "$tmp/rank1.out"

# A long run whose rank 1 is killed after the first checkpoints.
steps=1500
expect 0 "trained realnvp .*: $steps steps" -- "${run[@]}" --steps $steps --nproc 2 --out "$tmp/straight.flow"
worker_pid() {  # worker_pid LAUNCHER RANK: the launcher's child with RANK in its environment
  local status pid
  for status in /proc/[0-9]*/status; do
    grep -qx "PPid:[[:space:]]*$1" "$status" 2>/dev/null || continue
    pid=${status#/proc/} && pid=${pid%/status}
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "RANK=$2" && echo "$pid"
  done
}
checks=$((checks + 1))
"$diffeo" "${run[@]}" --steps $steps --nproc 2 --checkpoint-every 20 --out "$tmp/killed.flow" >"$out" 2>"$err" &
launcher_pid=$!
for _ in $(seq 600); do [ -s "$tmp/killed.flow.ckpt" ] && break; sleep 0.05; done
victim=$(worker_pid "$launcher_pid" 1)
if [ -z "$victim" ] || ! [ -s "$tmp/killed.flow.ckpt" ]; then
  fail "no worker of rank 1 or no checkpoint to kill it after"; kill "$launcher_pid"
else
  killed_at=$(date +%s)
  kill -KILL "$victim"
  wait "$launcher_pid"; code=$?
  took=$(($(date +%s) - killed_at))
  if [ "$code" -ne 1 ] || [ "$took" -gt 60 ] ||
    ! tail -n 1 "$err" | grep -Eq "rank 1 \(pid $victim\) killed by signal 9.*the last checkpoint '.*killed\.flow\.ckpt' is intact"; then
    fail "killing rank 1: exit $code after $took s, stderr:"; cat "$err"
  else
    echo "ok: rank 1 killed: the launcher exited 1 after $took s naming it"
  fi
fi
check "no model was written by the broken run" test ! -e "$tmp/killed.flow"
expect 0 "trained realnvp .*: $steps steps" -- "${run[@]}" --steps $steps --nproc 2 --resume --out "$tmp/killed.flow"
check "the resumed run wrote the uninterrupted run's model, byte for byte" cmp "$tmp/straight.flow" "$tmp/killed.flow"

# Ctrl-C on the launcher: every worker stops at the same step, rank 0 saves.
checks=$((checks + 1))
"$diffeo" "${run[@]}" --steps $steps --nproc 2 --checkpoint-every 20 --out "$tmp/stopped.flow" >"$out" 2>"$err" &
launcher_pid=$!
for _ in $(seq 600); do [ -s "$tmp/stopped.flow.ckpt" ] && break; sleep 0.05; done
kill -INT "$launcher_pid"
wait "$launcher_pid"; code=$?
if [ "$code" -ne 130 ] || [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q "interrupted at step" "$err"; then
  fail "SIGINT to the launcher: exit $code, stderr:"; cat "$err"
else
  echo "ok: SIGINT stopped both workers with a checkpoint (exit 130, one line)"
fi
expect 0 "trained realnvp .*: $steps steps" -- "${run[@]}" --steps $steps --nproc 2 --resume --out "$tmp/stopped.flow"
check "the run resumed after Ctrl-C wrote the uninterrupted run's model" cmp "$tmp/straight.flow" "$tmp/stopped.flow"

# Fresh batches of a toy density: each worker draws from its own stream, and
# the checkpoint keeps every stream, so a paused run resumes exactly too.
toy=(train --density banana --flow realnvp --layers 2 --hidden 8 --steps 60 --quiet --nproc 2)
expect 0 'trained realnvp' -- "${toy[@]}" --out "$tmp/toy1.flow"
expect 0 'paused at step 25 of 60' -- "${toy[@]}" --stop-after 25 --out "$tmp/toy2.flow"
expect 0 'trained realnvp' -- "${toy[@]}" --resume --out "$tmp/toy2.flow"
check "the toy run resumed on 2 workers wrote the uninterrupted model" cmp "$tmp/toy1.flow" "$tmp/toy2.flow"

# Every kind of training takes --nproc: a conditional model, and images.
expect 0 'trained maf \(1 dims.*100 steps' -- train --data "$tmp/d.csv" --context-cols 1 --flow maf --layers 2 \
  --hidden 8 --steps 100 --quiet --nproc 2 --out "$tmp/conditional.flow"
expect 0 'trained glow on fashion-mnist \(1x14x14.*6 steps.*bits/dim' -- train --dataset fashion-mnist \
  --flow glow --downsample 2 --steps 6 --validation 64 --layers 2 --hidden 8 --quiet --nproc 2 \
  --out "$tmp/images.pt"

expect 2 '--nproc must be a positive integer, got 0' -- "${run[@]}" --nproc 0 --out "$tmp/x.flow"
expect 2 '--master-port needs --nproc' -- "${run[@]}" --master-port 4000 --out "$tmp/x.flow"
expect 2 '--nnodes 2 needs --master-addr' -- "${run[@]}" --nproc 1 --nnodes 2 --out "$tmp/x.flow"
expect 2 '--node-rank must lie in 0..--nnodes - 1' -- "${run[@]}" --nproc 1 --nnodes 2 --node-rank 2 --master-addr 10.0.0.1 --out "$tmp/x.flow"
launcher=(env WORLD_SIZE=2 RANK=0)
expect 2 'under a launcher that sets WORLD_SIZE .* leave --nproc out' -- "${run[@]}" --nproc 2 --out "$tmp/x.flow"
launcher=()

# Two machines: network namespaces a and b joined by a veth pair, addresses
# inside them only; one worker each, node 0 serving the rendezvous.  nsenter
# enters only the network namespace (`ip netns exec` also remounts /, which
# fails inside a chroot such as scripts/check-fresh's).
net="diffeo-$$"
cleanup_net() { ip netns del "$net-a" 2>/dev/null; ip netns del "$net-b" 2>/dev/null; }
if ! command -v ip >/dev/null || ! ip netns add "$net-a" 2>/dev/null; then
  echo "skip: two-machine run: cannot create network namespaces here (needs root and iproute2)"
else
  trap 'cleanup_net; wait; rm -rf "$tmp" "$logs"' EXIT
  subnet="10.$((200 + $$ % 50)).$(($$ / 50 % 250)).0"
  a="${subnet%.0}.1" b="${subnet%.0}.2"
  # Inside some roots (check-fresh's chroot) namespaces can be created but
  # not joined or configured: probe the whole set-up, skip when it fails.
  if ! { ip netns add "$net-b" &&
    ip link add "$net-va" netns "$net-a" type veth peer name "$net-vb" netns "$net-b" &&
    ip -n "$net-a" addr add "$a/24" dev "$net-va" && ip -n "$net-b" addr add "$b/24" dev "$net-vb" &&
    ip -n "$net-a" link set lo up && ip -n "$net-b" link set lo up &&
    ip -n "$net-a" link set "$net-va" up && ip -n "$net-b" link set "$net-vb" up &&
    nsenter --net="/run/netns/$net-b" ip route get "$a" >/dev/null; } 2>"$tmp/netns.err"; then
    echo "skip: two-machine run: cannot configure network namespaces here: $(tr '\n' ' ' <"$tmp/netns.err")"
    cleanup_net
    rm -f "$tmp/netns.err"
    finish
    exit $?
  fi
  rm -f "$tmp/netns.err"
  machine() {  # machine NODE NAMESPACE
    nsenter --net="/run/netns/$2" timeout 120 "$diffeo" "${run[@]}" --steps 300 --nproc 1 --nnodes 2 --node-rank "$1" \
      --master-addr "$a" --master-port 29511 --out "$tmp/machines.flow"
  }
  machine 0 "$net-a" >"$tmp/node0.out" 2>&1 &
  node0=$!
  machine 1 "$net-b" >"$tmp/node1.out" 2>&1; code1=$?
  wait "$node0"; code0=$?
  checks=$((checks + 1))
  if [ "$code0" -ne 0 ] || [ "$code1" -ne 0 ]; then
    fail "two machines: exits $code0 and $code1"; cat "$tmp/node0.out" "$tmp/node1.out"
  else
    echo "ok: two network namespaces trained together over $a"
  fi
  check "two machines reach one process's NLL" same_nll "$tmp/one.flow" "$tmp/machines.flow"
  cleanup_net
fi

finish
