#!/usr/bin/env bash
# Prepare, on a machine with PyPI and no device time spent, what gpu_check.sh installs on a
# lent GPU machine (Python 3.12 image with torch, no package index): wheels of the OpenMMLab
# stack for cp312 and mmcv 2.1.0's source, in .whl/ (ignored by git, carried by the call).
#   bash tools/analysis_tools/gpu_wheels.sh          # then: device run, carry ['.whl']
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-.venv/bin/python}"
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
mkdir -p .whl
PLAT=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
      --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
# pure-Python or cp312 binaries the image lacks (KINDS.md lists what it has)
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${PLAT[@]}" -d .whl mmengine==0.10.7 mmdet==3.3.0 mmpretrain==1.2.0 pycocotools==2.0.11 \
  addict yapf platformdirs terminaltables termcolor shapely mat4py modelindex ordered-set \
  'setuptools<81' 2>&1 | grep -v "is ignored" || true
# mmcv ships only as source: gpu_check.sh builds it there (CPU ops, ~1 min on 16 cores)
"$PY" -m pip download -q --no-deps --no-binary :all: mmcv==2.1.0 -d .whl 2>&1 | grep -v "is ignored" || true
ls -la .whl; du -sh .whl
