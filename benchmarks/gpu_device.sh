#!/usr/bin/env bash
# The one command for a lent GPU machine (docs/scaling.md, "Checking on a GPU machine"):
#
#     bash benchmarks/gpu_device.sh [gpu_check.py options]
#
# The machine's python3 has torch, triton, CuPy, numpy, scipy, scikit-learn, numba,
# pytest and hypothesis, but not array-api-compat: carry its wheel in .whl/ (ignored by
# git). No build: src/ goes on the path. Writes to $OUT (else ./gpu_out): nvidia-smi's
# card line, the kernel audit (registers and spills for this triton), gpu_check.py's
# JSON and its log.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_out}
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem \
  --format=csv > "$out/nvidia-smi.csv" 2>&1
python3 benchmarks/gpu_check.py --out "$out/gpu_check.json" "$@" 2>&1 | tee "$out/gpu_check.log"
rc=${PIPESTATUS[0]}
# after the timings, not beside them: the audit compiles on the CPU
python3 benchmarks/triton_audit.py --sweep > "$out/triton_audit.md" 2>&1
exit "$rc"
