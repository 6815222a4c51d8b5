#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv `.venv` with the pinned OpenMMLab stack.
#
#   bash tools/misc/setup_env.sh          # what `make setup` runs
#
# mmcv 2.1.0 ships only as source and does not build against torch 2.14 as released
# (its setup.py hard-codes -std=c++17; torch 2.14's headers require C++20). This script
# downloads the sdist, patches that flag, builds a wheel once and caches it under
# $MMDET_HOYER_CACHE (default ~/.cache/mmdet-hoyer), keyed by torch version, Python tag and
# CPU/CUDA flavour. With the cache present a set-up takes 1-2 minutes; without it, the wheel
# is built from scratch (~6-11 min on 2 cores). On a machine with nvcc and a visible GPU the
# CUDA ops are built (FORCE_CUDA=1); set MMCV_FORCE_CUDA=0/1 to override.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV="${VENV:-$ROOT/.venv}"
CACHE="${MMDET_HOYER_CACHE:-$HOME/.cache/mmdet-hoyer}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
MAX_JOBS="${MAX_JOBS:-$(nproc)}"

log() { printf '[setup] %s\n' "$*"; }
# pip prints one warning per package for find-links/index locations that do not exist on a
# given machine; drop only those lines, keep pip's exit status.
pip_q() {
  "${PIP[@]}" "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}

# A stamp of everything that decides the environment's content: re-run only on change.
STAMP_SRC="$(cat requirements/*.txt setup.py tools/misc/setup_env.sh | sha1sum | cut -c1-16)"
STAMP_FILE="$VENV/.mmdet-hoyer-setup"
if [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$STAMP_SRC" ] \
    && "$VENV/bin/python" -c "import mmdet_hoyer, mmcv.ops" >/dev/null 2>&1; then
  log "environment $VENV is up to date"
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION and build tools"
pip_q install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
pip_q install -q "setuptools>=77.0.3,<81" wheel ninja psutil

# ---------------------------------------------------------------- mmcv (compiled ops)
if [ -z "${MMCV_FORCE_CUDA:-}" ]; then
  if command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1 \
      && nvidia-smi -L >/dev/null 2>&1; then MMCV_FORCE_CUDA=1; else MMCV_FORCE_CUDA=0; fi
fi
FLAVOUR=cpu
[ "$MMCV_FORCE_CUDA" = 1 ] && FLAVOUR="cuda$("$PY" -c 'import torch;print(torch.version.cuda)')"
PYTAG="$("$PY" -c 'import sys;print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$PYTAG-$FLAVOUR"
if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  log "no cached mmcv wheel in $WHEEL_DIR: building mmcv $MMCV_VERSION from source ($FLAVOUR ops, MAX_JOBS=$MAX_JOBS)"
  BUILD="$(mktemp -d)"
  pip_q download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD"
  tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
  SRC="$BUILD/mmcv-$MMCV_VERSION"
  # torch >= 2.14 headers #error below C++20; mmcv's own flag comes last, so patch it.
  sed -i "s/-std=c++17/-std=c++20/g" "$SRC/setup.py"
  grep -q -- "-std=c++20" "$SRC/setup.py" || { echo "mmcv setup.py patch failed" >&2; exit 1; }
  mkdir -p "$WHEEL_DIR"
  log "compiling (log: $WHEEL_DIR/build.log)"
  if ! (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA="$MMCV_FORCE_CUDA" MAX_JOBS="$MAX_JOBS" \
        CFLAGS="-DNDEBUG -fwrapv -O3 -g0" CXXFLAGS="-DNDEBUG -fwrapv -O3 -g0" \
        "${PIP[@]}" wheel -v --no-build-isolation --no-deps . -w "$WHEEL_DIR" \
        >"$WHEEL_DIR/build.log" 2>&1); then
    tail -n 60 "$WHEEL_DIR/build.log" >&2
    echo "mmcv build failed; full log: $WHEEL_DIR/build.log" >&2
    exit 1
  fi
  rm -rf "$BUILD"
else
  log "using cached mmcv wheel from $WHEEL_DIR"
fi
pip_q install -q --no-deps "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl

log "installing requirements (runtime, tests, deploy) and mmdet-hoyer (editable)"
pip_q install -q -r requirements/runtime.txt -r requirements/tests.txt -r requirements/deploy.txt
pip_q install -q --no-deps --no-build-isolation -e .
"$PY" -c "import mmcv.ops, mmdet, mmdet_hoyer; print('[setup] ok: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__)"
# the neuron's fused CPU kernels (HoyerSpike impl='auto'/'cpp'): built once into $CACHE/ops
# (~20 s); without a compiler training falls back to the eager neuron
"$PY" -c "from mmdet_hoyer.models.layers.neuron.cpu_kernels import build_directory as d, hoyer_cpu_ops_unavailable_reason as r; \
m = r(); print('[setup] fused CPU neuron kernels:', m or f'built in {d()}')" 2>&1 | grep -v "No CUDA runtime"
echo "$STAMP_SRC" >"$STAMP_FILE"
