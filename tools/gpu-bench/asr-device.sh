#!/usr/bin/env bash
# On the GPU machine, from the repo root: faster-whisper latency with random-weight Whisper models
# of the real shapes (tools/gpu-bench/asr_bench.py). Needs .gpu-asr/ made here first by
#   tools/gpu-bench/asr-device.sh pack     (ctranslate2 wheel, faster_whisper source, clips, vocabulary)
set -u
W=.gpu-asr
if [ "${1:-}" = pack ]; then
  M=$(.venv/bin/python -c 'from bestbox.paths import demo_whisper_model as m; print(m())')
  mkdir -p $W/whl $W/py $W/vocab
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux2014_x86_64 \
    -d $W/whl ctranslate2==4.8.5
  rm -rf $W/py/faster_whisper && cp -r .venv/lib/python3.11/site-packages/faster_whisper $W/py/
  find $W/py -name __pycache__ -prune -exec rm -rf {} +
  cp $M/vocabulary.txt $M/tokenizer.json $M/config.json $W/vocab/
  .venv/bin/python tools/gpu-bench/asr_bench.py prep $W/inputs
  du -sh $W; exit 0
fi
OUT=${OUT:-/tmp/asr-out}; mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site $W/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/$W/py PYTHONUNBUFFERED=1
SP=$(python3 -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))')
C12=$(find "$SP" /usr/local/cuda*/ /usr/lib/x86_64-linux-gnu -name 'libcublas.so.12*' 2>/dev/null | head -1)
C13=$(find "$SP" /usr/local/cuda*/ -name 'libcublas.so.13*' 2>/dev/null | head -1)
echo "cublas12=$C12 cublas13=$C13"
mkdir -p /tmp/shim
if [ -z "$C12" ] && [ -n "$C13" ]; then
  # ctranslate2's wheel dlopens libcublas.so.12 (CUDA 12); the image has CUDA 13's. The 9 cuBLAS
  # entry points it calls kept their ABI in 13, so a link named .so.12 stands in for it.
  ln -sf "$C13" /tmp/shim/libcublas.so.12; echo "SHIM: libcublas.so.12 -> $C13"
  export LD_LIBRARY_PATH=/tmp/shim:$(dirname "$C13"):${LD_LIBRARY_PATH:-}
else
  export LD_LIBRARY_PATH=$(dirname "$C12"):${LD_LIBRARY_PATH:-}
fi
GPU=$(nvidia-smi --query-gpu=name,memory.total,driver_version,power.limit --format=csv,noheader | head -1)
echo "GPU: $GPU"; nproc; python3 --version
python3 tools/gpu-bench/asr_bench.py bench --inputs $W/inputs --vocab $W/vocab/vocabulary.txt \
  --config $W/vocab/config.json --device cuda --gpu-name "$GPU (cublas: ${C12:-shim to $C13})" \
  --sizes ${SIZES:-tiny.en small.en large-v3-turbo} --compute-types ${CTYPES:-float16 int8_float16} \
  --reps ${REPS:-10} --out "$OUT/asr-gpu.json" > "$OUT/asr-gpu.stdout"
