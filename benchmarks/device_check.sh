#!/bin/bash
# The GPU check of round 18, as one script for a machine with a CUDA GPU:
# the CUDA tests, then bench_device.py on the GPU, with the same script on
# one CPU thread in a process of its own beside it.
#
# Where pip cannot reach an index, put the wheels the machine lacks (skorch,
# at least) in .whl/ first:
#   python -m pip download --no-deps --only-binary=:all: -d .whl skorch==1.4.0
# Logs go to $OUT (default: device_out/).
set -o pipefail
OUT=${OUT:-device_out}
mkdir -p "$OUT"
if ls .whl/*.whl > /dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD PYTHONUNBUFFERED=1
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    nproc
    python3 -c "import torch, sklearn, skorch; print('torch', torch.__version__, 'sklearn', sklearn.__version__, 'skorch', skorch.__version__, 'cuda', torch.cuda.is_available())"
} 2>&1 | tee "$OUT/env.log"
OMP_NUM_THREADS=1 timeout 400 python3 benchmarks/bench_device.py --devices cpu \
    > "$OUT/bench_cpu.log" 2>&1 &
cpu_pid=$!
timeout 200 python3 -m pytest -q -rs -p no:cacheprovider \
    tests/estimators/test_cuda.py tests/losses/test_precision_and_devices.py \
    2>&1 | tee "$OUT/pytest.log"
OMP_NUM_THREADS=1 timeout 240 python3 benchmarks/bench_device.py --devices cuda \
    2>&1 | tee "$OUT/bench_cuda.log"
wait "$cpu_pid"
cat "$OUT/bench_cpu.log"
