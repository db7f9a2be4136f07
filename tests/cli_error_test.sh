#!/usr/bin/env bash
# The `diffeo` command line on bad input (issue #10): every case must fail with
# the exact exit code (1: the files or the run, 2: the command line) and one
# line on stderr that says what is wrong and what to do, and leave no partial
# or temporary file behind; an existing output survives a failed write.
# The independent cases run in the background, a few at once (LibTorch takes
# most of a second to start).
# usage: cli_error_test.sh PATH_TO_DIFFEO
source "$(dirname "$0")/cli_lib.sh" "$1"

small=(--steps 3 --hidden 8 --layers 2 --quiet)
big=(--steps 3 --hidden 64,64 --layers 2 --quiet)  # a model file over 8 KiB
never="$tmp/never.flow"

# flip_bytes FILE OFFSET COUNT: inverts COUNT bytes of FILE at OFFSET, in place.
flip_bytes() {
  local hex bytes=""
  for hex in $(od -An -tx1 -j "$2" -N "$3" "$1"); do
    bytes+=$(printf '\\x%02x' $((0x$hex ^ 0xff)))
  done
  printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# npy_f8 FILE ROWS COLUMNS HEX_DOUBLES...: an NPY 1.0 file of little-endian
# float64 values, each given as 16 hex digits in memory order.
npy_f8() {
  local file="$1" rows="$2" columns="$3"; shift 3
  local dict="{'descr': '<f8', 'fortran_order': False, 'shape': ($rows, $columns), }"
  local pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
  { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $(( (${#dict} + pad + 1) % 256 )))\\x00"
    printf '%s%*s\n' "$dict" "$pad" ''
    local value; for value in "$@"; do printf "$(echo "$value" | sed 's/../\\x&/g')"; done
  } >"$file"
}
one=000000000000f03f two=0000000000000040 nan=000000000000f87f

# Runs diffeo where files may grow to 8 KiB at most: a write beyond fails with
# EFBIG (the signal ignored), as on a full disk.
with_file_limit() { ( ulimit -f 8; trap '' XFSZ; exec "$@" ); }

# ---------------------------------------------------------------- inputs
awk 'BEGIN { srand(1); print "x,y"; for (i = 0; i < 200; i++) printf "%.5f,%.5f\n", 4 * rand() - 2, 4 * rand() - 2 }' >"$tmp/good.csv"
# 100 data rows, 3 of them (lines 7, 40, 90) with 4 NaN or infinite values.
awk 'BEGIN { srand(2); print "x,y"; for (i = 2; i <= 101; i++)
  if (i == 7) print "0.5,nan"; else if (i == 40) print "inf,-inf"; else if (i == 90) print "-Inf,1";
  else printf "%.5f,%.5f\n", 4 * rand() - 2, 4 * rand() - 2 }' >"$tmp/nan.csv"
npy_f8 "$tmp/nan.npy" 4 2 $one $two $nan $two $two $one $one $one
npy_f8 "$tmp/table.npy" 1 2 $one $two
: >"$tmp/empty.csv"
printf '\n  \n\r\n' >"$tmp/blank.csv"
printf 'x,y\n' >"$tmp/header.csv"
printf 'x,y\n1,2\n3,abc\n' >"$tmp/text.csv"
printf '1,2\n3,4\n5\n' >"$tmp/ragged.csv"
printf 'x,y,z\n1,2,3\n4,5,7\n' >"$tmp/three.csv"
printf 'x,y\n1,2\n' >"$tmp/one_row.csv"
printf 'x,y\nnan,1\n2,inf\n' >"$tmp/all_nan.csv"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\10\2\0\0\0\x90wS\xde' >"$tmp/image.png"

expect 0 "trained maf \(2 dims" -- train --data "$tmp/good.csv" "${small[@]}" --out "$tmp/m.flow"
size=$(wc -c <"$tmp/m.flow")
head -c $((size / 2)) "$tmp/m.flow" >"$tmp/truncated.flow"
cp "$tmp/m.flow" "$tmp/corrupt.flow"
flip_bytes "$tmp/corrupt.flow" $((size / 2)) 4
check "corrupt.flow differs from m.flow" bash -c '! cmp -s "$1" "$2"' _ "$tmp/m.flow" "$tmp/corrupt.flow"
: >"$tmp/empty.flow"

background=1
expect 0 "trained maf" -- train --data "$tmp/good.csv" "${big[@]}" --out "$tmp/good.flow"

# ---------------------------------------------------------------- data files
expect 1 "read_csv: cannot open '.*/missing\.csv' \(missing or unreadable\)" -- train --data "$tmp/missing.csv" "${small[@]}" --out "$never"
expect 1 "read_npy: cannot open '.*/missing\.npy' \(missing or unreadable\)" -- eval --model "$tmp/m.flow" --data "$tmp/missing.npy"
expect 1 "'.*/empty\.csv' is empty \(no rows\); expected comma-separated numbers" -- train --data "$tmp/empty.csv" "${small[@]}" --out "$never"
expect 1 "'.*/blank\.csv' is empty \(no rows\); expected comma-separated numbers" -- train --data "$tmp/blank.csv" "${small[@]}" --out "$never"
expect 1 "'.*/header\.csv' has a header \(line 1\) but no data rows; expected rows of numbers" -- train --data "$tmp/header.csv" "${small[@]}" --out "$never"
expect 1 "'.*/text\.csv' line 3, column 2: 'abc' is not a number" -- train --data "$tmp/text.csv" "${small[@]}" --out "$never"
expect 1 "'.*/ragged\.csv' line 3 has 1 cells, expected 2 \(as on line 1\)" -- train --data "$tmp/ragged.csv" "${small[@]}" --out "$never"
expect 1 "'.*/one_row\.csv' has 1 rows; training needs at least 2" -- train --data "$tmp/one_row.csv" "${small[@]}" --out "$never"
expect 2 "train: --data '.*/good\.txt' must end in \.csv or \.npy" -- train --data "$tmp/good.txt" "${small[@]}" --out "$never"
expect 1 "eval: '.*/three\.csv' \(2 rows\) has 3 columns but the model '.*/m\.flow' has 2 dimensions; give a file with 2 columns" \
  -- eval --model "$tmp/m.flow" --data "$tmp/three.csv"
# NaN and infinite values are refused with their count and the first position.
expect 1 "train: --data '.*/nan\.csv' holds 4 NaN or infinite values in 3 of 100 rows \(the first at line 7, column 2 \('nan'\)\); .*--drop-nonfinite" \
  -- train --data "$tmp/nan.csv" "${small[@]}" --out "$never"
expect 1 "eval: --data '.*/nan\.csv' holds 4 NaN .* pass --drop-nonfinite to drop them" -- eval --model "$tmp/m.flow" --data "$tmp/nan.csv"
expect 1 "eval: --data '.*/nan\.npy' holds 1 NaN or infinite values in 1 of 4 rows \(the first at row 2, column 1\)" \
  -- eval --model "$tmp/m.flow" --data "$tmp/nan.npy"
expect 1 "'.*/all_nan\.csv' has no finite rows: all 2 data rows hold NaN or infinite values \(the first at line 2, column 1 \('nan'\)\)" \
  -- train --data "$tmp/all_nan.csv" --drop-nonfinite "${small[@]}" --out "$never"
expect 2 "train: --drop-nonfinite requires --data .*diffeo train --help" -- train --density banana --drop-nonfinite "${small[@]}" --out "$never"

# ---------------------------------------------------------------- model files
expect 1 "io::load: cannot open '.*/missing\.flow' \(missing or unreadable\)" -- sample --model "$tmp/missing.flow" -n 10 --out "$tmp/never.csv"
# Each kind of bad file once, spread over the commands that load models.
to_csv=(-n 10 --out "$tmp/never.csv")
expect 1 "'.*/truncated\.flow'.*truncated" -- sample --model "$tmp/truncated.flow" "${to_csv[@]}"
expect 1 "'.*/truncated\.flow'.*truncated" -- info --model "$tmp/truncated.flow"
expect 1 "'.*/corrupt\.flow'.*corrupt" -- eval --model "$tmp/corrupt.flow" --density banana -n 100
expect 1 "'.*/corrupt\.flow'.*corrupt" -- plot --model "$tmp/corrupt.flow" --out "$tmp/never.png"
expect 1 "'.*/empty\.flow'.*empty" -- sample --model "$tmp/empty.flow" "${to_csv[@]}"
expect 1 "'.*/good\.csv'.*not a diffeo model" -- eval --model "$tmp/good.csv" --data "$tmp/good.csv"
expect 1 "'.*/image\.png'.*not a diffeo model" -- sample --model "$tmp/image.png" "${to_csv[@]}"
expect 1 "'.*/table\.npy'.*not a diffeo model" -- info --model "$tmp/table.npy"

# ---------------------------------------------------------------- names
expect 2 "train: unknown flow 'flowy'; known flows: maf, .*diffeo train --help" -- train --flow flowy --density banana --out "$never"
expect 2 "train: unknown density 'nope'; known densities: .*banana" -- train --density nope --out "$never"
expect 2 "eval: unknown density 'nope'; known densities: .*banana" -- eval --model "$tmp/m.flow" --density nope
expect 2 "plot: unknown density 'nope'; known densities: .*banana" -- plot --density nope --out "$tmp/never.png"
expect 2 "gallery: unknown flow 'flowy'; known flows: maf" -- gallery --out "$tmp/never_gallery" --flows flowy
expect 2 "gallery: unknown density 'nope'; known densities: .*banana" -- gallery --out "$tmp/never_gallery" --densities nope
expect 2 "eval: density 'u1' has no sampler .*'diffeo densities' lists" -- eval --model "$tmp/m.flow" --density u1

# ---------------------------------------------------------------- numbers
expect 2 "train: --steps must be a positive integer, got 0" -- train --density banana --steps 0 --out "$never"
expect 2 "train: --steps must be a positive integer, got -3" -- train --density banana --steps -3 --out "$never"
expect 2 "train: --steps expects an integer, got 'abc' .*diffeo train --help" -- train --density banana --steps abc --out "$never"
expect 2 "train: --batch-size must be a positive integer, got 0" -- train --density banana --batch-size 0 --out "$never"
expect 2 "train: --batch-size must be a positive integer, got -1" -- train --density banana --batch-size=-1 --out "$never"
expect 2 "sample: -n must be a positive integer, got 0" -- sample --model "$tmp/m.flow" -n 0 --out "$tmp/never.csv"
expect 2 "sample: -n must be a positive integer, got -5" -- sample --model "$tmp/m.flow" -n -5 --out "$tmp/never.csv"
expect 2 "eval: -n must be a positive integer, got 0" -- eval --model "$tmp/m.flow" --density banana -n 0
expect 2 "eval: -n must be a positive integer, got -5" -- eval --model "$tmp/m.flow" --density banana -n -5
expect 2 "train: --threads must be a positive integer, got 0" -- train --density banana --threads 0 --out "$never"
expect 2 "sample: --threads must be a positive integer, got 0" -- sample --model "$tmp/m.flow" --threads 0 --out "$tmp/never.csv"
expect 2 "eval: --threads must be a positive integer, got 0" -- eval --model "$tmp/m.flow" --density banana --threads 0
expect 2 "plot: --threads must be a positive integer, got -2" -- plot --density banana --threads -2 --out "$tmp/never.png"

# ---------------------------------------------------------------- outputs
expect 1 "train: cannot write --out '.*/good\.csv/out\.flow' \(Not a directory\); give a path in an existing, writable directory" \
  -- train --data "$tmp/good.csv" "${small[@]}" --out "$tmp/good.csv/out.flow"
expect 1 "train: cannot write --out '.*/nodir/out\.flow' \(No such file or directory\); give a path" \
  -- train --data "$tmp/good.csv" "${small[@]}" --out "$tmp/nodir/out.flow"
expect 1 "train: cannot write --history '.*/good\.csv/h\.json' \(Not a directory\)" \
  -- train --data "$tmp/good.csv" "${small[@]}" --out "$never" --history "$tmp/good.csv/h.json"
expect 1 "train: cannot write --out '[^']*' \(it is a directory\); give a file name" -- train --density banana --out "$tmp"
expect 1 "sample: cannot write --out '.*/good\.csv/s\.csv' \(Not a directory\)" -- sample --model "$tmp/m.flow" --out "$tmp/good.csv/s.csv"
expect 1 "sample: cannot write --out '.*/nodir/s\.npy' \(No such file or directory\)" -- sample --model "$tmp/m.flow" --out "$tmp/nodir/s.npy"
expect 1 "plot: cannot write --out '.*/good\.csv/p\.png' \(Not a directory\)" -- plot --density banana --out "$tmp/good.csv/p.png"
settle
background=0

# ---------------------------------------------------------------- --drop-nonfinite
expect 0 "trained maf \(2 dims, [0-9]+ parameters\) on '.*/nan\.csv' \(88 training, 9 validation rows\): 3 steps" \
  -- train --data "$tmp/nan.csv" --drop-nonfinite "${small[@]}" --out "$tmp/nan.flow"
check "train --drop-nonfinite: one warning line on stderr, nothing else" \
  grep -Eqx "diffeo: warning: dropped 3 of 100 rows of '.*/nan\.csv' holding NaN or infinite values \(the first at line 7\)" "$err"
check "train --drop-nonfinite: nothing else on stderr" test "$(wc -l <"$err")" -eq 1
expect 0 "^nll +-?[0-9.]+ " -- eval --model "$tmp/nan.flow" --data "$tmp/nan.csv" --drop-nonfinite
check "eval --drop-nonfinite: one warning line on stderr" \
  grep -Eqx "diffeo: warning: dropped 3 of 100 rows of '.*/nan\.csv' .*\(the first at line 7\)" "$err"
expect 0 "^data +'.*/nan\.npy' \(3 rows\)" -- eval --model "$tmp/m.flow" --data "$tmp/nan.npy" --drop-nonfinite
check "eval --drop-nonfinite on NPY: the warning names the row" \
  grep -Eqx "diffeo: warning: dropped 1 of 4 rows of '.*/nan\.npy' holding NaN or infinite values \(the first at row 2\)" "$err"

# ---------------------------------------------------------------- full disk
# Files limited to 8 KiB: the write fails, naming the file, and the model
# already there survives byte for byte.
check "good.flow is over 8 KiB" test "$(wc -c <"$tmp/good.flow")" -gt 8192
cp "$tmp/good.flow" "$tmp/good.copy"
launcher=(with_file_limit)
expect 1 "cannot write '.*/good\.flow'.*File too large" -- train --data "$tmp/good.csv" "${big[@]}" --seed 1 --out "$tmp/good.flow"
expect 1 "cannot write '.*/big\.csv'.*File too large" -- sample --model "$tmp/good.flow" -n 2000 --out "$tmp/big.csv"
launcher=()
check "good.flow is unchanged after the failed save" cmp "$tmp/good.flow" "$tmp/good.copy"

check "no partial or temporary output files" only_files \
  'good\.csv|m\.flow|nan\.flow|good\.flow|good\.copy|(empty|blank|header|text|ragged|three|one_row|nan|all_nan)\.csv|nan\.npy|table\.npy|image\.png|(truncated|corrupt|empty)\.flow'
finish
