#!/usr/bin/env bash
# The `diffeo` command line: exit codes, one-line errors on stderr, the round
# trip train -> save -> sample -> train on the samples -> eval, and bad input
# that must fail with the right code and leave no output file behind.
# usage: cli_test.sh PATH_TO_DIFFEO
source "$(dirname "$0")/cli_lib.sh" "$1"

expect 0 '^0\.[0-9]+\.[0-9]+$' -- --version
expect 0 'Usage' -- --help
expect 0 'LibTorch [0-9]+\.[0-9]+\.[0-9]+' -- info
expect 2 '^diffeo: error: .*subcommand.*diffeo --help' --
expect 2 '^diffeo: error: .*nonsense' -- nonsense
expect 2 '^diffeo: error: .*--bogus' -- info --bogus
expect 0 '^banana +yes +yes +yes +\[' -- densities

# Round trip: a toy density -> model -> samples -> a model of the samples -> NLL and KL.
expect 0 'trained maf \(2 dims, [0-9]+ parameters\) on density banana: 30 steps, final train loss -?[0-9.]+, best validation -?[0-9.]+' \
  -- train --density banana --steps 30 --out "$tmp/m.flow"
expect 0 'wrote 1000 samples x 2 columns' -- sample --model "$tmp/m.flow" -n 1000 --out "$tmp/s.csv"
check "s.csv has 1000 rows of 2 numbers" \
  awk -F, 'NF != 2 || $1 !~ /^-?[0-9.e+-]+$/ || $2 !~ /^-?[0-9.e+-]+$/ { bad = 1 } END { exit bad || NR != 1000 }' "$tmp/s.csv"
expect 0 "trained realnvp .* on '.*s\.csv' \(900 training, 100 validation rows\): 30 steps" \
  -- train --flow realnvp --data "$tmp/s.csv" --steps 30 --hidden 16,16 --layers 2 \
  --out "$tmp/d.flow" --history "$tmp/h.json" --quiet
check "h.json records 30 steps" grep -q '"steps": 30' "$tmp/h.json"
expect 0 '^nll +-?[0-9]+\.[0-9]+ \+- [0-9.e-]+ nats' -- eval --model "$tmp/m.flow" --density banana -n 2000
expect 0 '^kl +-?[0-9]+\.[0-9]+(e-?[0-9]+)? \+- ' -- eval --model "$tmp/m.flow" --density banana -n 2000
expect 0 '^\{.*"nll":[0-9.]+,"nll_se":[0-9.e-]+' -- eval --model "$tmp/d.flow" --data "$tmp/s.csv" --json
expect 0 'wrote 500 samples x 2 columns \(float32\)' -- sample --model "$tmp/d.flow" -n 500 --seed 3 --out "$tmp/s.npy"
check "s.npy holds a 128-byte header and 500 x 2 float32" test "$(wc -c <"$tmp/s.npy")" -eq $((128 + 4000))
expect 0 '^nll +[0-9.]+ ' -- eval --model "$tmp/d.flow" --data "$tmp/s.npy"
expect 0 '"flow": "realnvp"' -- info --model "$tmp/d.flow"
expect 0 '^dim +2$' -- info --model "$tmp/d.flow"

expect 0 'trained bernstein \(2 dims, 34 parameters\)' -- train --flow bernstein --order 12 \
  --density banana --steps 20 --out "$tmp/b.flow" --quiet
expect 0 '^nll +[0-9.]+ ' -- eval --model "$tmp/b.flow" --density banana -n 2000
expect 0 'trained maf' -- train --flow maf --transform bernstein --layers 2 --hidden 8 \
  --density banana --steps 5 --out "$tmp/b.flow" --quiet
expect 2 "'transform' is 'cubic'" -- train --transform cubic --density banana --out "$tmp/never.flow"
expect 2 "'order' must be in \[4, 200\], got 2" -- train --flow bernstein --order 2 \
  --density banana --out "$tmp/never.flow"

# A conditional transformation model p(y | x) from CSV columns.
awk 'BEGIN { srand(3); print "x,y"; for (i = 0; i < 400; i++) { x = 4 * rand() - 2; printf "%.6f,%.6f\n", x, x + (rand() < 0.5 ? 1.5 : -1.5) + 0.3 * (rand() - 0.5) } }' >"$tmp/reg.csv"
expect 0 "trained bernstein \(1 dims, .* on '.*reg\.csv'" -- train --flow bernstein --data "$tmp/reg.csv" \
  --context-cols 1 --steps 20 --hidden 8 --out "$tmp/r.flow" --quiet
expect 2 "column 1 is both a target and a context column" -- train --flow bernstein \
  --data "$tmp/reg.csv" --context-cols 1 --target-cols 1 --out "$tmp/never.flow"
expect 2 "context-cols needs column numbers from 1 to 2, got '3'" -- train --flow bernstein \
  --data "$tmp/reg.csv" --context-cols 3 --out "$tmp/never.flow"
# ... evaluated on its file's columns, sampled per context row (inline or from a file), in
# the covariate's own units: the model records its layout and standardises x itself.
expect 0 '"columns": 2' -- info --model "$tmp/r.flow"
expect 0 '^nll +[0-9.]+ \+- ' -- eval --model "$tmp/r.flow" --data "$tmp/reg.csv"
expect 0 '^\{.*"nll":[0-9.]+.*"rows":400' -- eval --model "$tmp/r.flow" --data "$tmp/reg.csv" --json
awk -F, 'NR > 1 { print $1 "," $2 "," $1 }' "$tmp/reg.csv" >"$tmp/reg3.csv"
expect 1 "'.*reg3\.csv' has 3 columns, but the model was trained on a table of 2 columns: target 2 \(y\), context 1 \(x\)" \
  -- eval --model "$tmp/r.flow" --data "$tmp/reg3.csv"
# With a header, columns are found by name: reordered, with an extra column, same NLL.
expect 0 '"nll":' -- eval --model "$tmp/r.flow" --data "$tmp/reg.csv" --json
nll=$(grep -o '"nll":[^,]*' "$out")
awk -F, '{ print $2 "," ($1 == "x" ? "extra" : 0) "," $1 }' "$tmp/reg.csv" >"$tmp/reg_named.csv"
expect 0 '"nll":' -- eval --model "$tmp/r.flow" --data "$tmp/reg_named.csv" --json
check "columns matched by name give the same NLL" grep -q "$nll" "$out"
sed '1s/x/u/' "$tmp/reg.csv" >"$tmp/reg_u.csv"
expect 1 "reg_u\.csv' has no column named 'x'; the model was trained on a table of 2 columns" \
  -- eval --model "$tmp/r.flow" --data "$tmp/reg_u.csv"
expect 1 "conditional flow of a table's columns .*evaluate it on --data FILE" \
  -- eval --model "$tmp/r.flow" --density banana
expect 0 'trained bernstein' -- train --flow bernstein --data "$tmp/reg.csv" --context-cols 1 \
  --steps 300 --out "$tmp/r300.flow" --quiet
printf 'x\n-1.5\n1.5\n' >"$tmp/ctx.csv"
expect 0 'wrote 4000 samples x 3 columns \(float32\) \(2000 per context row: row, context, sample\)' \
  -- sample --model "$tmp/r300.flow" --context "$tmp/ctx.csv" -n 2000 --out "$tmp/cs.csv"
check "cs.csv: rows 1 and 2 carry their context, and y follows x (slope 1: means 3 apart)" \
  awk -F, '$1 == 1 && $2 != -1.5 || $1 == 2 && $2 != 1.5 { bad = 1 } { s[$1] += $3; n[$1]++ }
    END { d = s[2] / n[2] - s[1] / n[1]; exit bad || n[1] != 2000 || d < 2 || d > 4 }' "$tmp/cs.csv"
expect 0 'wrote 5 samples x 3 columns' -- sample --model "$tmp/r.flow" --context 0.25 -n 5 --out "$tmp/c1.csv"
check "an inline context is row 1" awk -F, '$1 != 1 || $2 != 0.25 { bad = 1 } END { exit bad || NR != 5 }' "$tmp/c1.csv"
expect 2 "conditional flow \(1 context features\): give --context" -- sample --model "$tmp/r.flow" -n 3 --out "$tmp/never.csv"
expect 1 "--context gives 2 values per row but '.*r\.flow' takes 1 context features" \
  -- sample --model "$tmp/r.flow" --context 1,2 -n 3 --out "$tmp/never.csv"
expect 2 "--context takes a .csv/.npy file or finite numbers" -- sample --model "$tmp/r.flow" --context abc --out "$tmp/never.csv"
expect 2 "is unconditional: it takes no --context" -- sample --model "$tmp/m.flow" --context 1 --out "$tmp/never.csv"

# Pictures: plot and a tiny gallery (PNG and GIF signatures, the page's images).
png() { head -c 8 "$1" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$'; }
# The conditional model above: a curve per context value, the heat map with its data.
expect 0 'wrote .*cp\.png' -- plot --model "$tmp/r300.flow" --context -1,0,1 --data "$tmp/reg.csv" --bins 40 --out "$tmp/cp.png"
check "cp.png is a PNG" png "$tmp/cp.png"
expect 2 "conditional flow \(1 context features\): give --context" -- plot --model "$tmp/r300.flow" --out "$tmp/never.png"
expect 2 "go with a conditional model" -- plot --model "$tmp/m.flow" --context 1 --out "$tmp/never.png"
expect 0 'wrote .*p\.png' -- plot --model "$tmp/m.flow" --density banana --kind both --bins 40 \
  -n 2000 --out "$tmp/p.png"
check "p.png is a PNG" png "$tmp/p.png"
expect 0 'wrote .*q\.png' -- plot --model "$tmp/m.flow" --kind surface --bins 30 --out "$tmp/q.png"
expect 2 "kind is 'pie'" -- plot --density banana --kind pie --out "$tmp/never.png"
expect 2 'give --model FILE and/or --density NAME' -- plot --out "$tmp/never.png"
expect 1 "cannot write --out '.*nodir/p\.png'" -- plot --density banana --out "$tmp/nodir/p.png"
expect 0 'gallery written to' -- gallery --out "$tmp/g" --densities banana --flows maf \
  --steps 20 --test-n 2000 --animation-steps 20 --resolution 40
check "the gallery page shows every image it made" \
  bash -c 'cd "$1" && for i in $(grep -o "img/[a-z_0-9]*\.\(png\|gif\)" index.html); do test -s "$i" || exit 1; done' _ "$tmp/g"
check "the gallery's cells and figures are PNGs, the animation a GIF" \
  bash -c 'test "$(head -c 6 "$1/img/training.gif")" = GIF89a && test -s "$1/img/banana_maf.png" && test -s "$1/index.md"' _ "$tmp/g"
expect 0 'maf +reused' -- gallery --out "$tmp/g" --densities banana --flows maf \
  --steps 20 --test-n 2000 --animation-steps 20 --resolution 40
expect 2 "unknown flow 'flowy'" -- gallery --out "$tmp/g" --flows flowy

# Images: a tiny run on 7x7 Fashion-MNIST (downsampled by 4) with grids, GIF and
# a snapshot; test bits/dim; a sample grid.
expect 0 'trained maf on fashion-mnist \(1x7x7, 59800 training images, [0-9]+ parameters\): 6 steps .*best validation [0-9.]+ bits/dim; saved .*img\.flow; grids in .*img_grids' \
  -- train --dataset fashion-mnist --downsample 4 --flow maf --hidden 32 --steps 6 \
  --validation 200 --grid-every 3 --gif "$tmp/img.gif" --out "$tmp/img.flow" --quiet
check "grids at steps 0, 3 and 6 are PNGs and the GIF has them" \
  bash -c 'for s in 0 3 6; do test "$(head -c 4 "$1/img_grids/maf_fashion-mnist_$s.png" | tail -c 3)" = PNG || exit 1; done; test "$(head -c 6 "$1/img.gif")" = GIF89a' _ "$tmp"
expect 0 'bits/dim +[0-9.]+ \+- [0-9.e-]+' -- eval --model "$tmp/img.flow" --dataset fashion-mnist
expect 0 '"bits_per_dim":[0-9.]+.*"images":10000' -- eval --model "$tmp/img.flow" --dataset fashion-mnist --json
expect 0 'wrote a grid of 9 samples \(temperature 0\.7\)' -- sample --model "$tmp/img.flow" --grid "$tmp/grid.png" -n 9 --temperature 0.7
check "the sample grid is a PNG" bash -c 'test "$(head -c 4 "$1" | tail -c 3)" = PNG' _ "$tmp/grid.png"
expect 0 'trained nsf on fashion-mnist \(1x7x7, 59900 training images' -- train --dataset fashion-mnist \
  --downsample 4 --flow nsf --conditional --layers 2 --hidden 16 --steps 3 --validation 100 --out "$tmp/cond.flow" --quiet
expect 0 'wrote a grid of 100 samples' -- sample --model "$tmp/cond.flow" --grid "$tmp/cond.png"
expect 0 'wrote a grid of 16 samples of class 7' -- sample --model "$tmp/cond.flow" --grid "$tmp/cond7.png" --class 7 -n 16
check "cond7.png is a PNG" png "$tmp/cond7.png"
expect 2 '--class must be from 0 to 9, got 10' -- sample --model "$tmp/cond.flow" --grid "$tmp/never.png" --class 10
expect 2 '--class needs a class-conditional image model' -- sample --model "$tmp/img.flow" --grid "$tmp/never.png" --class 1
expect 2 '--class goes with --grid' -- sample --model "$tmp/cond.flow" --out "$tmp/never.csv" --class 1
expect 0 'bits/dim +[0-9.]+' -- eval --model "$tmp/cond.flow" --dataset fashion-mnist
expect 2 "unknown image data set 'cifar'" -- train --dataset cifar --out "$tmp/never.flow"
expect 2 "images train maf, realnvp, nsf or glow, not 'bernstein'" -- train --dataset fashion-mnist --flow bernstein --out "$tmp/never.flow"
expect 1 "MultiscaleGlow: argument 'image_shape' \[1, 7, 7\] cannot be squeezed" -- train --dataset fashion-mnist --downsample 4 --flow glow --out "$tmp/never.flow"
expect 2 '--minutes must be a positive number, got 0' -- train --dataset fashion-mnist --minutes 0 --out "$tmp/never.flow"
expect 1 "is not an image model" -- sample --model "$tmp/m.flow" --grid "$tmp/never.png"
expect 1 "is not an image model" -- eval --model "$tmp/m.flow" --dataset fashion-mnist
expect 1 "nodir' does not exist; the Debian package dataset-fashion-mnist provides it" -- train --dataset fashion-mnist --data-dir "$tmp/nodir" --steps 2 --out "$tmp/never.flow"

# Your own images: 16x16 RGB squares and discs (tests/make_shapes.py) as an NPY array with a
# label CSV and as a PNG folder with class sub-folders; every image flow trains briefly and
# its test bits/dim falls below the uniform 8-bit model's 8.
/usr/bin/python3 "$(dirname "$0")/make_shapes.py" "$tmp/shapes" 240
below_8() { awk -F'"bits_per_dim":' '{ split($2, v, ","); exit !(v[1] + 0 < 8) }' "$out"; }
for case in "maf --hidden 128" "nsf --layers 2 --hidden 32,32" "glow --hidden 16"; do
  set -- $case
  flow=$1; shift
  for source in train.npy train_png; do
    expect 0 "trained $flow on '.*$source' \(3x16x16, 216 training images" -- train --data "$tmp/shapes/$source" \
      --flow "$flow" "$@" --steps 60 --validation 24 --out "$tmp/shapes/$flow.flow" --quiet
    expect 0 '"bits_per_dim":[0-9.]+' -- eval --model "$tmp/shapes/$flow.flow" --data "$tmp/shapes/test_png" --json
    check "$flow from $source: test bits/dim below 8 (the PNG test folder)" below_8
    expect 0 '"images":60' -- eval --model "$tmp/shapes/$flow.flow" --data "$tmp/shapes/test.npy" --json
    check "$flow from $source: test bits/dim below 8 (the NPY test array)" below_8
  done
done
expect 0 "trained nsf on '.*train\.npy' \(3x16x16" -- train --data "$tmp/shapes/train.npy" --labels \
  "$tmp/shapes/train_labels.csv" --conditional --flow nsf --layers 2 --hidden 16,16 --steps 5 --out "$tmp/shapes/c.flow" --quiet
expect 0 'bits/dim +[0-9.]+' -- eval --model "$tmp/shapes/c.flow" --data "$tmp/shapes/test_png"
expect 0 'wrote a grid of 16 samples of class 1' -- sample --model "$tmp/shapes/c.flow" --grid "$tmp/shapes/c1.png" --class 1 -n 16
check "an RGB grid is a PNG" png "$tmp/shapes/c1.png"
expect 1 "c\.flow' is class-conditional; give labels" -- eval --model "$tmp/shapes/c.flow" --data "$tmp/shapes/test.npy"
expect 2 '--conditional needs labels' -- train --data "$tmp/shapes/train.npy" --conditional --out "$tmp/never.flow"
expect 2 '--labels goes with image data' -- train --data "$tmp/reg.csv" --labels "$tmp/shapes/train_labels.csv" --out "$tmp/never.flow"
expect 1 "images are \[3, 4, 4\] \(C, H, W, downsampled by 4 as the model's training images were\) but '.*img\.flow' models \[1, 7, 7\]" -- eval --model "$tmp/img.flow" --data "$tmp/shapes/test.npy"
expect 1 "cannot be squeezed" -- train --data "$tmp/shapes/train.npy" --flow glow --levels 5 --out "$tmp/never.flow"
# Grey images [N, H, W] of an odd size: MAF and NSF take any H, W; Glow's squeeze refuses 15x15.
/usr/bin/python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(0).random((60, 15, 15)))' "$tmp/shapes/grey.npy"
expect 0 "trained maf on '.*grey\.npy' \(1x15x15" -- train --data "$tmp/shapes/grey.npy" --flow maf --hidden 16 --steps 2 --out "$tmp/shapes/grey.flow" --quiet
expect 0 "trained nsf on '.*grey\.npy' \(1x15x15" -- train --data "$tmp/shapes/grey.npy" --flow nsf --layers 2 --hidden 8 --steps 2 --out "$tmp/shapes/grey.flow" --quiet
expect 1 "image_shape' \[1, 15, 15\] cannot be squeezed" -- train --data "$tmp/shapes/grey.npy" --flow glow --out "$tmp/never.flow"

# Bad input: the exact exit code, one line on stderr, no output file.
printf 'x,y\n1,2\n3,abc\n' >"$tmp/bad.csv"
expect 1 "cannot open '.*missing\.csv'" -- train --data "$tmp/missing.csv" --out "$tmp/never.flow"
expect 1 "bad\.csv' line 3, column 2: 'abc' is not a number" -- train --data "$tmp/bad.csv" --out "$tmp/never.flow"
expect 2 "unknown flow 'foo'; known flows: maf" -- train --flow foo --density banana --out "$tmp/never.flow"
expect 2 '--steps must be a positive integer, got 0' -- train --density banana --steps 0 --out "$tmp/never.flow"
expect 2 "unknown density 'nope'" -- train --density nope --out "$tmp/never.flow"
expect 2 "unknown density 'nope'" -- eval --model "$tmp/m.flow" --density nope
expect 2 'exactly one of --density NAME, --data FILE or --dataset NAME' -- train --out "$tmp/never.flow"
expect 2 "must end in \.csv or \.npy" -- sample --model "$tmp/m.flow" --out "$tmp/never.txt"
expect 1 "bad\.csv' is not a (diffeo model|readable model file)" -- sample --model "$tmp/bad.csv" -n 10 --out "$tmp/never.csv"
expect 1 "bad\.csv' is not a (diffeo model|readable model file)" -- eval --model "$tmp/bad.csv" --density banana
expect 1 "cannot write --out '.*nodir/m\.flow'" -- train --density banana --steps 3 --out "$tmp/nodir/m.flow"
expect 1 "cannot write --out '.*nodir/s\.csv'" -- sample --model "$tmp/m.flow" --out "$tmp/nodir/s.csv"
check "no partial or temporary output files" \
  only_files 'm\.flow|d\.flow|s\.csv|s\.npy|h\.json|bad\.csv|p\.png|q\.png|g|b\.flow|reg\.csv|r\.flow|reg3\.csv|reg_named\.csv|reg_u\.csv|r300\.flow|ctx\.csv|cs\.csv|c1\.csv|cp\.png|img\.flow|img\.gif|img_grids|grid\.png|cond\.flow|cond\.png|cond7\.png|shapes'
finish
