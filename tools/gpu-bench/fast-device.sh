#!/usr/bin/env bash
# ON THE GPU MACHINE, from the repo root, in ONE call (pack first HERE: tools/gpu-bench/pack-fast.sh):
#
#   bash tools/gpu-bench/fast-device.sh          # carry [".gpu5"], timeout_s 600
#
# 1. unpacks the pruned llama.cpp source, then at once and side by side:
#    - the CUDA build (sm_90) of llama-server alone (FAST_BUILD_FLAGS below),
#    - the 14B-shaped Q4_K_M and the 7B-shaped Q5_K_M random-weight GGUFs written directly in their
#      K-quant types (`gguf_random --quantize ... --direct`: seconds, no F16 file, no llama-quantize),
#    - the app's cp312 packages (/tmp/site), the int8 Whisper tiny.en and the spoken clips;
# 2. `bestbox bench --only $SECTIONS` (default: turns, i.e. typed and voice turns in the three
#    configurations, the app's config as voice-device.sh writes it) with repeats chosen from the
#    time left, ended by END_BY_S (default 545 s after the start) whatever happens.
# Everything goes to $OUT as it comes (fast.log line by line, bench.partial.json every 10 s), so a
# call cut short still returns what was measured. At most 8 files: fast.log, machine.txt,
# build.txt, bench.json, bench.partial.json, bench.log, gpu.txt, logs.txt.
#
# A dry run HERE (no GPU; the venv's Python and packages; the CPU llama-server from the venv, or a
# CPU build with DRY_BUILD=cpu; "small"-shaped models under the same file names; Whisper on CPU):
#   DRY=1 PY=.venv/bin/python OUT=/tmp/fast-out GPU_WORK=/tmp/fast-work bash tools/gpu-bench/fast-device.sh
set -uo pipefail
source "$(dirname "$0")/voice-device.sh"    # R W O elapsed site cublas_shim write_config (runs nothing)
P=${PACK:-.gpu5}
END_BY=${END_BY_S:-545}
DRY=${DRY:-}
PY=${PY:-python3}
JOBS=${JOBS:-$(nproc)}
: > "$O/fast.log"
log() { echo "[$(elapsed)s] $*" | tee -a "$O/fast.log"; }
[ -f "$P/llama.cpp-src.tar.xz" ] || { log "no $P (tools/gpu-bench/pack-fast.sh)"; exit 1; }
rm -rf "$W/src" "$W/models" "$W/build-cuda" "$W/bench-out" "$W/whisper" "$W"/done.* "$W/failed"
mkdir -p "$W/src" "$W/logs" "$W/bench-out"

# Build flags. Each cuts compile time without changing what the bench measures:
#  - target llama-server only (no llama-quantize / llama-bench: the models need no quantizing);
#  - sm_90 only (the H200);
#  - GGML_CUDA_FA_QUANTS=f16-f16: the flash-attention vector kernels for the F16 KV cache the app
#    uses (no --cache-type flags in servers/command.py) instead of also q4_0, q8_0 and bf16 caches;
#  - GGML_CUDA_COMPRESSION_MODE=none: the fatbin is stored uncompressed (a bigger .so, same kernels);
#  - GGML_CUDA_NCCL=OFF: NCCL only serves several GPUs.
# Flash attention, CUDA graphs, MMQ and the rest stay llama.cpp's defaults.
FAST_BUILD_FLAGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_CCACHE=OFF)
CUDA_FLAGS=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA_QUANTS=f16-f16
  -DGGML_CUDA_COMPRESSION_MODE=none -DGGML_CUDA_NCCL=OFF ${CMAKE_EXTRA:-})   # CMAKE_EXTRA: more, by hand

build() {   # background: $W/done.cuda or $W/failed.cuda
  local t0; t0=$(date +%s)
  if [ -n "$DRY" ] && [ "${DRY_BUILD:-none}" = none ]; then   # configure only, then the venv's server
    cmake -S "$W/src" -B "$W/build-cuda" "${FAST_BUILD_FLAGS[@]}" -DGGML_CUDA=OFF > "$W/logs/build.log" 2>&1 &&
      cmake --build "$W/build-cuda" --target llama-ui-assets >> "$W/logs/build.log" 2>&1 &&
      ln -sf "$(PYTHONPATH="$R/app" "$PY" -c 'from bestbox.paths import find_llama_server as f; print(f()[0])')" "$W/build-cuda/bin/llama-server"
  elif [ -n "$DRY" ]; then
    cmake -S "$W/src" -B "$W/build-cuda" "${FAST_BUILD_FLAGS[@]}" -DGGML_CUDA=OFF > "$W/logs/build.log" 2>&1 &&
      cmake --build "$W/build-cuda" --target llama-server -j "$JOBS" >> "$W/logs/build.log" 2>&1
  else
    cmake -S "$W/src" -B "$W/build-cuda" "${FAST_BUILD_FLAGS[@]}" "${CUDA_FLAGS[@]}" > "$W/logs/build.log" 2>&1 &&
      cmake --build "$W/build-cuda" --target llama-server -j "$JOBS" >> "$W/logs/build.log" 2>&1
  fi
  local rc=$?
  echo "build rc=$rc in $(( $(date +%s) - t0 )) s" > "$W/logs/build-time.txt"
  [ $rc -eq 0 ] && [ -x "$W/build-cuda/bin/llama-server" ] && touch "$W/done.cuda" || touch "$W/failed.cuda"
}

models() {   # background: both GGUFs side by side; $W/done.models or $W/failed.models
  local shm; shm=$(df -BG --output=avail /dev/shm 2>/dev/null | tail -1 | tr -dc 0-9)
  local M=$W/models.d
  [ "${shm:-0}" -ge 24 ] && M=/dev/shm/bestbox-models
  rm -rf "$M" && mkdir -p "$M" && ln -sfn "$M" "$W/models"
  local s14=14b s7=7b vocab=(--vocab-from "$W/src/models/ggml-vocab-qwen2.gguf")
  [ -n "$DRY" ] && { s14=small; s7=small; vocab=(); }
  local t0; t0=$(date +%s)
  PYTHONPATH="$R/app:$W/src/gguf-py" "$PY" -m bestbox.bench.gguf_random --shape $s14 "${vocab[@]}" \
    --out "$M/qwen2.5-14b-random-Q4_K_M.gguf" --quantize Q4_K_M --direct > "$W/logs/gen14.log" 2>&1 & local p14=$!
  PYTHONPATH="$R/app:$W/src/gguf-py" "$PY" -m bestbox.bench.gguf_random --shape $s7 "${vocab[@]}" --seed 1 \
    --out "$M/qwen2.5-7b-random-Q5_K_M.gguf" --quantize Q5_K_M --direct > "$W/logs/gen7.log" 2>&1 & local p7=$!
  wait $p14 && wait $p7 && touch "$W/done.models" || touch "$W/failed.models"
  echo "models in $(( $(date +%s) - t0 )) s ($M)" > "$W/logs/models-time.txt"
}

unpack_rest() {   # the app's packages, Whisper, the clips
  if [ -z "$DRY" ]; then
    rm -rf /tmp/site && mkdir -p /tmp/site && tar xJf "$P/site.tar.xz" -C /tmp/site && touch /tmp/site/.done
  fi
  tar xJf "$P/whisper.tar.xz" -C "$W" && tar xJf "$P/wav.tar.xz" -C "$W/bench-out"
}

machine() {
  { date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1
    nvcc --version 2>&1 | tail -1; cmake --version | head -1; echo "cores $(nproc)"; free -g | head -2
    df -h /tmp /dev/shm | tail -2; "$PY" -c 'import sys; print(sys.version.split()[0])'; } > "$O/machine.txt" 2>&1
}

wait_for() {   # $1: marker name; $2: give up at this elapsed second
  while [ ! -f "$W/done.$1" ] && [ ! -f "$W/failed.$1" ] && [ "$(elapsed)" -lt "$2" ]; do
    sleep 5
    [ $(( $(elapsed) % 30 )) -lt 5 ] && log "waiting for $1: $(grep -o '^\[[0-9]*/[0-9]*\]' "$W/logs/build.log" 2>/dev/null | tail -1)"
  done
  [ -f "$W/done.$1" ]
}

build_report() {
  { cat "$W/logs/build-time.txt" "$W/logs/models-time.txt" 2>/dev/null; cat "$W/src/SOURCE-VERSION" 2>/dev/null
    grep -E "^(GGML_CUDA[A-Z_]*|CMAKE_CUDA_ARCHITECTURES|CMAKE_BUILD_TYPE|GGML_NATIVE):" "$W/build-cuda/CMakeCache.txt" 2>/dev/null
    # the slowest steps (ninja's log: start, end in ms, target), for planning the next run
    echo "== slowest build steps (s)"
    awk -F'\t' 'NR > 1 { printf "%7.1f %s\n", ($2 - $1) / 1000, $4 }' "$W/build-cuda/.ninja_log" 2>/dev/null | sort -rn | head -25
    echo "== steps, summed CPU-ish seconds"
    awk -F'\t' 'NR > 1 { n++; s += ($2 - $1) / 1000 } END { printf "%d steps, %.0f s\n", n, s }' "$W/build-cuda/.ninja_log" 2>/dev/null
    ls -la "$W/models/" 2>&1; } > "$O/build.txt"
}

bundle_logs() {
  { for f in "$W"/logs/*.log; do echo "===== $(basename "$f")"; tail -n 40 "$f"; done
    for f in "$W"/data/run/*.log; do [ -f "$f" ] && { echo "===== $f"; head -c 6000 "$f"; echo; echo "..."; tail -n 30 "$f"; }; done; } > "$O/logs.txt" 2>&1
}

# --- 1. source, then build + models + the rest side by side ---
log "start (DRY=${DRY:-0}, END_BY_S=$END_BY, $JOBS jobs)"
machine &
tar xJf "$P/llama.cpp-src.tar.xz" -C "$W/src" || { log "source unpack failed"; exit 1; }
log "source unpacked: $(cat "$W/src/SOURCE-VERSION" 2>/dev/null)"
build & models & 
unpack_rest && log "packages, Whisper, clips unpacked" || log "unpack failed (site/whisper/wav)"
wait_for models 120 && log "models written: $(cat "$W/logs/models-time.txt")" || { log "models FAILED"; bundle_logs; exit 1; }
# under ~60 s left there is no point starting the servers
wait_for cuda $(( END_BY - 60 )) && log "build done: $(head -n 1 "$W/logs/build-time.txt")" \
  || { log "build not done in time ($(tail -n 3 "$W/logs/build.log" | tr '\n' ' '))"; build_report; bundle_logs; exit 1; }
build_report

# --- 2. the bench, in the time left ---
[ -n "$DRY" ] || cublas_shim
write_config
if [ -n "$DRY" ]; then   # CPU Whisper; ports of our own (a shared machine has servers on 8080/8081)
  sed -i 's/^device = "cuda"/device = "cpu"/; s/^compute_type = "float16"/compute_type = "int8"/' "$W/bestbox.toml"
  sed -i "s/^\[servers.heavy\]/&\nport = ${HEAVY_PORT:-18480}/; s/^\[servers.light\]/&\nport = ${LIGHT_PORT:-18481}/" "$W/bestbox.toml"
fi
SITE=/tmp/site; [ -z "$DRY" ] || SITE=""
export PYTHONPATH="${SITE:+$SITE:}$R/app" BESTBOX_CONFIG=$W/bestbox.toml BESTBOX_DATA_DIR=$W/data PYTHONUNBUFFERED=1
left=$(( END_BY - $(elapsed) - 10 ))
# Sections and repeats from the time left. On the H200 (2026-11-30) turns took 155 s at 3 repeats
# (3 typed rounds of 9 turns, 2 voice rounds of 6), asr 16 s; starting the servers and Whisper
# ~30 s. So ~185 s for 3 repeats, ~150 for 2, ~125 for 1 (its voice round is the same as 2's);
# the thresholds keep ~25 % spare, since a section lands in the JSON only whole; with less than
# a round of turns needs, asr alone (GPU Whisper figures at least).
reps=3; sections=turns
if [ $left -ge 300 ]; then sections=asr,turns
elif [ $left -ge 240 ]; then :
elif [ $left -ge 180 ]; then reps=2
elif [ $left -ge 130 ]; then reps=1
else reps=1; sections=asr; fi
reps=${REPEATS:-$reps}; sections=${SECTIONS:-$sections}
log "bench: --only $sections --repeats $reps, ${left}s left"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$O/gpu.txt"
  ( while sleep 5; do echo "$(elapsed) $(nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader,nounits)"; done ) >> "$O/gpu.txt" 2>&1 &
  MON=$!
fi
( while sleep 10; do cp "$W/bench-out/bench.partial.json" "$O/bench.partial.json" 2>/dev/null; done ) &
COPIER=$!
timeout "$left" "$PY" -m bestbox bench --json --no-ui --out "$W/bench-out" --only "$sections" --repeats "$reps" \
  --tool-call-tokens "${TOOL_CALL_TOKENS:-auto}" ${BENCH_ARGS:-} > "$O/bench.json" 2> "$O/bench.log"
log "bench rc=$? ($(grep -c . "$O/bench.log") log lines)"
kill $COPIER ${MON:-} 2>/dev/null
cp "$W/bench-out/bench.partial.json" "$O/bench.partial.json" 2>/dev/null
[ -s "$O/bench.json" ] || { cp "$W/bench-out/bench.partial.json" "$O/bench.json" 2>/dev/null && log "bench.json is the partial one"; }
bundle_logs
log "done"
