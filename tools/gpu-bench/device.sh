#!/usr/bin/env bash
# The GPU benchmark, ON THE GPU MACHINE, from the repo root:
#
#   bash tools/gpu-bench/device.sh all      # one call of < 10 min: machine check, build + models
#                                           # (prepare.sh, ~5.5 min on 16 cores), then the bench in
#                                           # the time left (partial results are kept step by step)
#   bash tools/gpu-bench/device.sh stage1   # machine check, start prepare.sh detached, follow it
#   bash tools/gpu-bench/device.sh stage2   # wait for prepare, start both servers, run the bench
#
# The work folder (GPU_WORK, default /tmp/gpu-work) holds the build and the models. Seen here:
# the repo's ignored folders did NOT survive from one call to the next on the same warm machine,
# so it lives outside the repo; stage2 after stage1 needs it to survive.
#
# Needs .gpu/llama.cpp-src.tar.gz (tools/gpu-bench/pack-source.sh) and, for the app's real fast
# path, .gpu/whl/platformdirs-*.whl. Results go to $OUT (or .gpu-work/out without $OUT).
set -uo pipefail
R=$(pwd)
W=${GPU_WORK:-/tmp/gpu-work}
export GPU_WORK=$W
O=${OUT:-$W/out}
mkdir -p "$W/logs" "$O"
stage=${1:-}
budget=${BUDGET_S:-560}
t_call=$(date +%s)
elapsed() { echo $(( $(date +%s) - t_call )); }

copy_logs() {   # at most 8 files come back: bundle the logs into one text file
  { for f in "$W"/logs/times.txt "$W"/logs/prepare.log "$W"/logs/gen14.log "$W"/logs/gen7.log \
             "$W"/logs/quant14.log "$W"/logs/build-cpu.log "$W"/logs/build-cuda.log "$W"/logs/prepare.out; do
      [ -f "$f" ] || continue
      echo "===== $(basename "$f")"; tail -n 60 "$f"
    done; } > "$O/logs-$stage.txt" 2>&1
}

check_machine() {
  {
    echo "== date"; date -u
    echo "== nvidia-smi"; nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv
    echo "== nvcc"; nvcc --version | tail -2
    echo "== cmake"; cmake --version | head -1; ninja --version
    echo "== python"; python3 -c 'import sys, numpy, httpx; print(sys.version.split()[0], "numpy", numpy.__version__, "httpx", httpx.__version__)'
    python3 -c 'import yaml, requests, tqdm; print("yaml/requests/tqdm ok")'
    echo "== cpu"; nproc; lscpu | grep -E "Model name|Thread|Socket" ; free -g
    echo "== disk"; df -h "$R" /dev/shm /tmp
    echo "== left from earlier calls"; ls /tmp /dev/shm "$W" 2>&1 | head -30
  } 2>&1 | tee "$O/machine.txt"
}

follow_prepare() {   # start prepare.sh detached (it outlives this call) and follow it until $1 s
  if [ -f "$W/done.prepare" ]; then echo "prepare already done"; return 0; fi
  setsid nohup bash tools/gpu-bench/prepare.sh > "$W/logs/prepare.out" 2>&1 < /dev/null &
  echo "prepare.sh started (detached)"
  while [ ! -f "$W/done.prepare" ] && [ ! -f "$W/failed" ] && [ "$(elapsed)" -lt "$1" ]; do
    sleep 20
    ninja_prog=$(grep -o '^\[[0-9]*/[0-9]*\]' "$W/logs/build-cuda.log" 2>/dev/null | tail -1)
    echo "[$(elapsed)s] cuda ${ninja_prog:-?} | $(tail -n 1 "$W/logs/prepare.log" 2>/dev/null) | $(tail -n 1 "$W/logs/gen7.log" 2>/dev/null | cut -c1-90)"
  done
  cat "$W/logs/times.txt" 2>/dev/null
  [ -f "$W/failed" ] && { echo "FAILED: $(cat "$W/failed")"; return 1; }
  [ -f "$W/done.prepare" ] && echo "PREPARE DONE" || echo "prepare still running after $(elapsed)s"
}

bench() {   # $1: seconds (from the start of this call) by which everything must be over
  local end_by=$1
  while [ ! -f "$W/done.prepare" ] && [ ! -f "$W/failed" ] && [ "$(elapsed)" -lt 300 ]; do
    sleep 10; echo "[$(elapsed)s] waiting for prepare: $(tail -n 1 "$W/logs/prepare.log")"
  done
  [ -f "$W/done.prepare" ] || { echo "prepare not done: $(cat "$W/failed" 2>/dev/null)"; copy_logs; return 1; }
  B=$W/build-cuda/bin
  M14=$W/models/qwen2.5-14b-random-Q4_K_M.gguf
  M7=$W/models/qwen2.5-7b-random-Q5_K_M.gguf
  # the app's own command lines (bestbox.servers.command, stdlib only: no pydantic needed here)
  # with its default tiers (bestbox/servers/tiers.py)
  local -a heavy_argv light_argv
  mapfile -d '' -t heavy_argv < <(PYTHONPATH="$R/app" python3 -m bestbox.servers.command --print heavy --null \
    --binary "$B/llama-server" --model "$M14" --port ${HEAVY_PORT:-8080})
  mapfile -d '' -t light_argv < <(PYTHONPATH="$R/app" python3 -m bestbox.servers.command --print light --null \
    --binary "$B/llama-server" --model "$M7" --port ${LIGHT_PORT:-8081})
  [ ${#heavy_argv[@]} -gt 2 ] && [ ${#light_argv[@]} -gt 2 ] || { echo "cannot build the server command lines"; return 1; }
  echo "heavy: ${heavy_argv[*]}"; echo "light: ${light_argv[*]}"
  "${heavy_argv[@]}" > "$W/logs/heavy.log" 2>&1 &
  HEAVY=$!
  "${light_argv[@]}" > "$W/logs/light.log" 2>&1 &
  LIGHT=$!
  t0=$(date +%s.%N)
  for port in ${HEAVY_PORT:-8080} ${LIGHT_PORT:-8081}; do
    until [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/health)" = 200 ]; do
      sleep 0.2
      kill -0 $HEAVY 2>/dev/null && kill -0 $LIGHT 2>/dev/null || { echo "a server died"; tail -30 "$W"/logs/heavy.log "$W"/logs/light.log; break 2; }
    done
    echo "port $port ready after $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s"
  done
  {
    echo "== llama-server --version"; "$B/llama-server" --version 2>&1 | tail -3
    echo "== source"; cat "$W/src/SOURCE-VERSION"
    echo "== cmake cache"; grep -E "^(GGML_CUDA|CMAKE_CUDA_ARCHITECTURES|CMAKE_BUILD_TYPE|GGML_NATIVE)" "$W/build-cuda/CMakeCache.txt"
    echo "== nvcc"; nvcc --version | tail -2
    echo "== nvidia-smi with both servers loaded"
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv
    nvidia-smi --query-compute-apps=pid,used_memory --format=csv
    echo "== models"; ls -la "$W/models"
    echo "== prepare times"; cat "$W/logs/times.txt"
    echo "== server load lines"
    grep -E "offloaded|model size|CUDA0 model buffer|KV self size|flash_attn|n_ctx_slot|n_ctx " "$W"/logs/heavy.log "$W"/logs/light.log | head -40
  } > "$O/build-info.txt" 2>&1
  cat "$O/build-info.txt"

  # the app's real fast path wants platformdirs (via bestbox.paths)
  if ls .gpu/whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site .gpu/whl/*.whl && export PYTHONPATH=/tmp/site
  fi
  export PYTHONPATH="$R/app${PYTHONPATH:+:$PYTHONPATH}" BESTBOX_DATA_DIR=$W/data PYTHONUNBUFFERED=1
  local left=$(( end_by - $(elapsed) - 25 ))
  echo "bench budget ${left}s"
  timeout "$left" python3 -m bestbox.bench.server_bench --light http://127.0.0.1:${LIGHT_PORT:-8081} \
    --heavy http://127.0.0.1:${HEAVY_PORT:-8080} --repeats "${REPEATS:-20}" --turn-repeats "${TURN_REPEATS:-10}" \
    --json "$O/server_bench.json" ${BENCH_ARGS:-} 2> "$O/server_bench.log" | tee "$O/server_bench.txt"
  echo "server_bench rc=${PIPESTATUS[0]} after $(elapsed)s"
  curl -s http://127.0.0.1:${HEAVY_PORT:-8080}/metrics > "$W/logs/heavy-metrics.txt"; curl -s http://127.0.0.1:${LIGHT_PORT:-8081}/metrics > "$W/logs/light-metrics.txt"
  # llama-bench next to the loaded servers, as a cross-check of decode and prompt speed
  if [ "$(elapsed)" -lt $(( end_by - 40 )) ]; then
    timeout 90 "$B/llama-bench" -m "$M7" -m "$M14" -p 512 -n 128 -r 3 -ngl 99 2>&1 | grep -v "^ggml_cuda_init\|^  Device" | tee "$O/llama-bench.txt"
  fi
  kill $HEAVY $LIGHT 2>/dev/null; wait 2>/dev/null
  { echo "===== heavy.log"; head -c 20000 "$W/logs/heavy.log"; echo; echo "===== light.log"; head -c 20000 "$W/logs/light.log";
    echo "===== heavy metrics"; grep -v "^#" "$W/logs/heavy-metrics.txt"; echo "===== light metrics"; grep -v "^#" "$W/logs/light-metrics.txt"; } > "$O/server-logs.txt"
  copy_logs
  echo "bench done after $(elapsed)s"
}

case "$stage" in
  stage1) check_machine; follow_prepare "$budget"; rc=$?; copy_logs; exit $rc ;;
  stage2) bench "${END_BY_S:-570}"; exit $? ;;
  all) check_machine; follow_prepare 420 || { copy_logs; exit 1; }
       [ -f "$W/done.prepare" ] || { copy_logs; echo "prepare not done in time"; exit 1; }
       bench "${END_BY_S:-575}"; exit $? ;;
  *) echo "usage: $0 stage1|stage2|all" >&2; exit 2 ;;
esac
