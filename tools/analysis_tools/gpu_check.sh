#!/usr/bin/env bash
# The GPU checks of docs/guides/scale.md and docs/results/benchmarks.md in one run (about 8 min)
# on any CUDA machine with the project installed:
#   bash tools/analysis_tools/gpu_check.sh        # PYTHON=... to choose the interpreter
# Writes $OUT/gpu_check.md (the tables, most important first, each as soon as it is measured)
# and $OUT/gpu_check.log. Every step has its own time limit, so a slow one costs only itself.
# Dry run of the plumbing on a CPU machine with the project's .venv:
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_QUICK=1 PYTHON=.venv/bin/python bash tools/analysis_tools/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-work_dirs/gpu_check}"; mkdir -p "$OUT"
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
DEV="${GPU_CHECK_DEVICE:-cuda}"
QUICK="${GPU_CHECK_QUICK:-0}"
MD="$OUT/gpu_check.md"; LOG="$OUT/gpu_check.log"
T0=$(date +%s)
log() { echo "[gpu_check +$(( $(date +%s) - T0 ))s] $*" | tee -a "$LOG"; }
section() { printf '\n## %s\n\n`%s`\n\n' "$1" "$2" >> "$MD"; }
N=0
run() {  # run LIMIT_S TITLE CMD...: CMD writes its table with --out; append it to $MD
  local limit=$1 title=$2; shift 2; N=$((N + 1)); local table="$OUT/table$N.md"
  log "start: $title"; section "$title" "$* --out $table"
  if timeout "$limit" "$@" --out "$table" >> "$LOG" 2>&1; then cat "$table" >> "$MD"
  else echo "FAILED or timed out after ${limit}s (see gpu_check.log)" >> "$MD"; fi
  log "done: $title"
}
echo "# GPU check $(date -u +%F)" > "$MD"
{ nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; "$PY" -c 'import torch,sys;print("torch",torch.__version__,"python",sys.version.split()[0],"cuda",torch.cuda.is_available())'; } | tee -a "$MD" "$LOG"

# ---- the project must be installed (make setup, or pip install -e . next to MMDetection)
"$PY" -c 'import mmcv.ops, mmdet, mmpretrain, mmdet_hoyer' >> "$LOG" 2>&1 || {
  log "error: $PY cannot import mmcv.ops, mmdet, mmpretrain and mmdet_hoyer: install the project first (make setup, or pip install -e . beside MMDetection; docs/guides/setup.md)"; exit 1; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONWARNINGS=ignore PYTHONUNBUFFERED=1

# mmcv's NMS on CUDA tensors needs its CUDA ops: without them time the training steps only
NOEVAL=(--no-eval); [ "${GPU_CHECK_MMCV_CUDA:-0}" = 1 ] || [ "$DEV" = cpu ] && NOEVAL=()
if [ "$QUICK" = 1 ]; then FULL=(--configs ssd --batch 2 --steps 1 --warmup 1); BIG=(--quick); DEMO=(--quick)
else FULL=(--configs yolov3 ssd --batch 8 --steps 5 --warmup 2); BIG=(--batch-size 32 --size 320 --steps 10 --warmup 3)
  DEMO=(--steps 10 --warmup 3); fi
S=tools/analysis_tools/scale_cost.py; B=tools/analysis_tools/benchmark_train.py
run 150 "Full configs, SNN vs ANN twin, impl auto" "$PY" $S step --device "$DEV" "${FULL[@]}"
run 150 "32 x 320^2 (demo network), impl compile (row a'': the eager neuron auto uses on CUDA)" \
  "$PY" $B --device "$DEV" "${BIG[@]}" --impl compile "${NOEVAL[@]}"
run 120 "Full configs, SNN vs ANN twin, impl compile" "$PY" $S step --device "$DEV" "${FULL[@]}" --impl compile
run 90 "Demo size (batch 8 x 128^2), impl compile" "$PY" $B --device "$DEV" "${DEMO[@]}" --impl compile "${NOEVAL[@]}"
log "total $(( $(date +%s) - T0 )) s"; cat "$MD"
