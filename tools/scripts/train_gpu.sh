#!/usr/bin/env bash
# Trains the Shapes model on a lent GPU in a fixed time budget, starting from the committed
# bundle's weights (or INIT), and packs the result into $OUT (files come back in pieces of at
# most 16 MiB). Continue it on CPU with `python -m padt.train --init-from <unpacked model/>`.
# Run from the repository root on the GPU machine, with the wheels of transformers 4.50.3,
# tokenizers 0.21.1, huggingface-hub 0.30.2, pycocotools 2.0.8 and onnx 1.17.0 (the bundle
# importer reads the initial weights) in .whl/:
#   tools/scripts/train_gpu.sh SECONDS [BATCH] [INIT]
set -u
budget=${1:-420}
batch=${2:-32}
init=${3:-../models/padt-tiny-shapes}
export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
cd tools || exit 1
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__, torch.cuda.get_device_name())" || exit 1
# A short probe measures the step time, so the cosine schedule ends inside the budget.
python3 -m padt.train --out /tmp/probe --steps 100000 --stop-after 30 --device cuda --bf16 \
  --batch "$batch" --workers 12 --log-every 10 --ckpt-every 100000 --val-every 0 \
  --init-from "$init" > "$OUT/probe.log" 2>&1
sec=$(grep -o '[0-9.]*s/step' "$OUT/probe.log" | tail -1 | sed 's|s/step||')
[ -n "$sec" ] || { echo "probe failed"; tail -40 "$OUT/probe.log"; exit 1; }
steps=$(python3 -c "print(max(300, int(0.9 * $budget / $sec)))")
echo "training $steps steps at $sec s/step"
timeout "$budget" python3 -m padt.train --out /tmp/run --steps "$steps" --device cuda --bf16 \
  --batch "$batch" --workers 12 --log-every 50 --ckpt-every 250 --val-every 0 \
  --init-from "$init" > "$OUT/train.log" 2>&1
echo "train exit $?"
tail -4 "$OUT/train.log"
cp /tmp/run/log.jsonl "$OUT/log.jsonl"
tar -C /tmp/run -cf - model | split -b 15M - "$OUT/model.tar.part-"
ls -la "$OUT"
