#!/usr/bin/env bash
# The full-scale rehearsal (issue 17, not in CI): a random checkpoint in the PaDT Pro 3B layout
# with the real Qwen2.5-VL tokenizer, exported as fp32, fp16, int8 and int4 (MatMulNBits)
# bundles; each loaded by the engine, one REC answer on a 644 px image, then decode steps at
# cache lengths 434 and 4000 against the streaming-bandwidth floor measured in the same run.
# Export time and peak RSS, engine ready time, peak RSS against the bundle's weight bytes.
#
#   bench/full-scale/run.sh [--forms fp32,fp16,int8,int4] [--layers 36] [--threads 2]
#                           [--block-size 32] [--clean] [--force]
#
# Run it under /work/bin/quiet (or alone): it is minutes of both cores. Needs about 19 GB of
# available memory for the fp32 bundle (16 GB resident) and, with --clean, ~45 GB of disk at
# the peak (checkpoint 7.5 GB, fp32 bundle 15.4 GB, and its quantised copy while it is
# written). Files live under .data/full-scale/ (gitignored); --clean deletes each bundle once
# measured and the checkpoint at the end. --layers N keeps the real widths with N LLM layers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
forms=fp32,fp16,int8,int4 layers=36 threads=2 block=32 clean=0 force=0
while [ $# -gt 0 ]; do
  case $1 in
    --forms) forms=$2; shift ;;
    --layers) layers=$2; shift ;;
    --threads) threads=$2; shift ;;
    --block-size) block=$2; shift ;;
    --clean) clean=1 ;;
    --force) force=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
data=.data/full-scale
mkdir -p "$data"
py=tools/.venv/bin/python
image=packages/engine/test/fixtures/images/rgb_1000x700.jpg
avail=$(awk '/MemAvailable/ {print int($2 / 1048576)}' /proc/meminfo)
echo "memory available: ${avail} GB; layers ${layers}; threads ${threads}; forms ${forms}"
if [ "$avail" -lt 19 ] && [ "$layers" -ge 36 ] && [ "$force" = 0 ]; then
  echo "under 19 GB available: use --layers N (or --forms fp16,int8,int4), or --force" >&2
  exit 3
fi
results=$data/results-L$layers-${forms//,/-}.jsonl
: >"$results"

ckpt=$data/checkpoint-L$layers
if [ ! -f "$ckpt/config.json" ]; then
  /usr/bin/time -f '%e %M' -o "$data/time.txt" \
    "$py" bench/full-scale/make_checkpoint.py "$ckpt" --layers "$layers"
  read -r secs kb <"$data/time.txt"
  echo "{\"phase\":\"checkpoint\",\"seconds\":$secs,\"peak_rss_bytes\":$((kb * 1024))}" >>"$results"
fi

for form in ${forms//,/ }; do
  bundle=$data/bundle-L$layers-$form
  case $form in
    fp32) flags=(--dtype fp32) ;;
    fp16) flags=(--dtype fp16) ;;
    int8 | int4) flags=(--dtype fp32 --quantize "$form" --quant-block-size "$block") ;;
    *) echo "unknown form $form" >&2; exit 2 ;;
  esac
  echo "== $form: export"
  (cd tools && /usr/bin/time -f '%e %M' -o "../$data/time.txt" \
    .venv/bin/python -m padt.export export "../$ckpt" "../$bundle" --force "${flags[@]}") | tail -n 2
  read -r secs kb <"$data/time.txt"
  sizes=$("$py" bench/full-scale/step_bytes.py "$bundle")
  echo "{\"phase\":\"export\",\"form\":\"$form\",\"seconds\":$secs,\"peak_rss_bytes\":$((kb * 1024)),\"sizes\":$sizes}" >>"$results"
  weight_step=$(echo "$sizes" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["weight_bytes_per_step"])')
  for phase in engine steps; do
    echo "== $form: $phase"
    if [ $phase = engine ]; then args=("$image" "$threads"); else args=("$threads" "$weight_step" 434,4000); fi
    # A phase that fails (the kernel's OOM killer included) is recorded and the next form runs.
    if out=$(npx tsx bench/full-scale/measure.ts $phase "$bundle" "${args[@]}" | tail -n 1) &&
      [ -n "$out" ]; then
      echo "$out" | "$py" -c "import json,sys; d=json.load(sys.stdin); d['form']='$form'; print(json.dumps(d))" >>"$results"
    else
      echo "{\"phase\":\"$phase\",\"form\":\"$form\",\"failed\":true}" >>"$results"
    fi
  done
  [ "$clean" = 1 ] && rm -rf "$bundle"
done
[ "$clean" = 1 ] && rm -rf "$ckpt"
"$py" bench/full-scale/summary.py "$results"
