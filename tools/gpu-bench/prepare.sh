#!/usr/bin/env bash
# Runs ON THE GPU MACHINE, from the repo root, detached (device.sh stage1 starts it with setsid so
# it outlives one 10-minute call). Each step leaves a marker in $GPU_WORK and is skipped when its
# marker is there, so a second start on the same warm machine resumes.
#
#   1. unpack .gpu/llama.cpp-src.tar.gz (made here by pack-source.sh)
#   2. CUDA build (sm_90) of llama-server, llama-quantize, llama-bench  -- in the background
#   3. a CPU-only llama-quantize (small, so quantizing starts before the CUDA build ends)
#   4. 14B-shaped random GGUF (F16) -> Q4_K_M;  7B-shaped -> Q5_K_M   (F16 files deleted after)
#
# Layout: $GPU_WORK (default /tmp/gpu-work)/{src,build-cuda,build-cpu,models,logs,f16} ; F16 files go to /dev/shm when it
# has room (faster, and keeps the 64 GB disk free), else to .gpu-work/f16.
set -uo pipefail
R=$(pwd)
W=${GPU_WORK:-/tmp/gpu-work}
mkdir -p "$W/logs" "$W/models"
L=$W/logs/prepare.log
log() { echo "[$(date +%T)] $*" | tee -a "$L"; }
mark() { date +%s > "$W/done.$1"; }
have() { [ -f "$W/done.$1" ]; }
fail() { log "FAILED: $*"; echo "$*" > "$W/failed"; exit 1; }
t_start=$(date +%s)
JOBS=${JOBS:-$(nproc)}

if ! have extract; then
  rm -rf "$W/src"; mkdir -p "$W/src"
  tar xzf "$R/.gpu/llama.cpp-src.tar.gz" -C "$W/src" || fail "unpack source"
  mark extract; log "source unpacked: $(cat "$W/src/SOURCE-VERSION")"
fi
export PYTHONPATH="$R/app:$W/src/gguf-py${PYTHONPATH:+:$PYTHONPATH}"
COMMON=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
        -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_CCACHE=OFF)

# 2. CUDA build, in the background
if ! have cuda; then
  (
    t0=$(date +%s)
    cmake -S "$W/src" -B "$W/build-cuda" "${COMMON[@]}" -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      > "$W/logs/build-cuda.log" 2>&1 &&
    cmake --build "$W/build-cuda" --target llama-server llama-quantize llama-bench -j "$JOBS" \
      >> "$W/logs/build-cuda.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then mark cuda; echo "cuda build: $(( $(date +%s) - t0 )) s" >> "$W/logs/times.txt"
    else echo "cuda build rc=$rc" > "$W/failed.cuda"; fi
  ) &
  CUDA_PID=$!
  log "CUDA build started (pid $CUDA_PID, -j $JOBS)"
fi

# where the F16 files go
shm_free=$(df -BG --output=avail /dev/shm 2>/dev/null | tail -1 | tr -dc 0-9); shm_free=${shm_free:-0}
disk_free=$(df -BG --output=avail "$W" | tail -1 | tr -dc 0-9)
if [ "$shm_free" -ge 34 ]; then F16=/dev/shm/bestbox-f16; f16_free=$shm_free; else F16=$W/f16; f16_free=$disk_free; fi
mkdir -p "$F16"
# both F16 files at once only where there is room for them (and, on the disk, for the outputs too)
if [ "$F16" = /dev/shm/bestbox-f16 ] && [ "$shm_free" -ge 50 ]; then OVERLAP=1
elif [ "$F16" != /dev/shm/bestbox-f16 ] && [ "$disk_free" -ge 64 ]; then OVERLAP=1
else OVERLAP=0; fi
log "F16 dir $F16 (free ${f16_free}G; disk free ${disk_free}G; overlap=$OVERLAP)"

M14=$W/models/qwen2.5-14b-random-Q4_K_M.gguf
M7=$W/models/qwen2.5-7b-random-Q5_K_M.gguf
VOCAB=$W/src/models/ggml-vocab-qwen2.gguf

gen14() {
  t0=$(date +%s)
  python3 -m bestbox.bench.gguf_random --shape 14b --out "$F16/14b.f16.gguf" --vocab-from "$VOCAB" \
    > "$W/logs/gen14.log" 2>&1 || return 1
  echo "gen 14b f16: $(( $(date +%s) - t0 )) s" >> "$W/logs/times.txt"
}
if ! have gen14 && ! have q14; then
  gen14 & GEN14_PID=$!
fi

# 3. CPU-only llama-quantize
if ! have qbin; then
  t0=$(date +%s)
  cmake -S "$W/src" -B "$W/build-cpu" "${COMMON[@]}" -DGGML_CUDA=OFF > "$W/logs/build-cpu.log" 2>&1 &&
  cmake --build "$W/build-cpu" --target llama-quantize -j "$JOBS" >> "$W/logs/build-cpu.log" 2>&1 \
    || fail "cpu llama-quantize build (see build-cpu.log)"
  echo "cpu llama-quantize build: $(( $(date +%s) - t0 )) s" >> "$W/logs/times.txt"
  mark qbin; log "CPU llama-quantize built"
fi
Q=$W/build-cpu/bin/llama-quantize

if [ -n "${GEN14_PID:-}" ]; then wait "$GEN14_PID" || fail "gen 14b (see gen14.log)"; mark gen14; log "14B F16 written"; fi

quant14() {
  t0=$(date +%s)
  "$Q" "$F16/14b.f16.gguf" "$M14" Q4_K_M "$JOBS" > "$W/logs/quant14.log" 2>&1 || return 1
  echo "quantize 14b Q4_K_M: $(( $(date +%s) - t0 )) s" >> "$W/logs/times.txt"
  rm -f "$F16/14b.f16.gguf"
}
gen7q() {
  t0=$(date +%s)
  # the module's own --quantize path: write F16, run llama-quantize, delete the F16
  python3 -m bestbox.bench.gguf_random --shape 7b --out "$M7" --f16-out "$F16/7b.f16.gguf" \
    --vocab-from "$VOCAB" --quantize Q5_K_M --llama-quantize "$Q" --threads "$JOBS" \
    > "$W/logs/gen7.log" 2>&1 || return 1
  echo "gen 7b f16 + quantize Q5_K_M: $(( $(date +%s) - t0 )) s" >> "$W/logs/times.txt"
}
if ! have q14 && [ "$OVERLAP" = 1 ]; then
  quant14 & Q14_PID=$!
  if ! have q7; then gen7q || fail "7b (see gen7.log)"; mark q7; log "7B Q5_K_M ready"; fi
  wait "$Q14_PID" || fail "quantize 14b (see quant14.log)"; mark q14; log "14B Q4_K_M ready"
else
  if ! have q14; then quant14 || fail "quantize 14b (see quant14.log)"; mark q14; log "14B Q4_K_M ready"; fi
  if ! have q7; then gen7q || fail "7b (see gen7.log)"; mark q7; log "7B Q5_K_M ready"; fi
fi

if [ -n "${CUDA_PID:-}" ]; then wait "$CUDA_PID"; fi
have cuda || fail "cuda build (see build-cuda.log)"
log "CUDA build done"
ls -la "$W/models" "$W/build-cuda/bin" >> "$L" 2>&1
echo "prepare total: $(( $(date +%s) - t_start )) s" >> "$W/logs/times.txt"
mark prepare
log "prepare done"

# A current family beside Qwen2.5 (issue: any model a user brings): Qwen3-8B's shapes with Qwen3's
# own chat template. After `prepare` is marked, so the main bench never waits for it.
M3=$W/models/qwen3-8b-random-Q4_K_M.gguf
if [ "${FAMILY:-1}" = 1 ] && ! have q3; then
  t0=$(date +%s)
  python3 -m bestbox.bench.gguf_random --shape qwen3-8b --out "$M3" --f16-out "$F16/q3.f16.gguf" \
    --vocab-from "$VOCAB" --chat-template "$W/src/models/templates/Qwen-Qwen3-0.6B.jinja" \
    --quantize Q4_K_M --llama-quantize "$Q" --threads "$JOBS" > "$W/logs/gen-q3.log" 2>&1 \
    && { mark q3; echo "gen qwen3-8b + quantize Q4_K_M: $(( $(date +%s) - t0 )) s" >> "$W/logs/times.txt"; log "Qwen3-8B Q4_K_M ready"; } \
    || log "Qwen3-8B failed (see gen-q3.log)"
fi
