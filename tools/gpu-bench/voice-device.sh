#!/usr/bin/env bash
# ON THE GPU MACHINE, from the repo root: the app's own `bestbox bench` with both llama-servers on
# the GPU (CUDA build, 7B/14B-shaped random weights) and faster-whisper on CUDA, in two calls
# (pack everything first HERE with tools/gpu-bench/pack-voice.sh):
#
#   call 1, carry [".gpu"]:  bash tools/gpu-bench/voice-device.sh stage1
#       machine check; the app's wheels into /tmp/site; prepare.sh (CUDA build + models) started
#       detached and followed until BUDGET_S (it goes on after the call returns)
#   call 2, carry [".gpu2"]: bash tools/gpu-bench/voice-device.sh stage2
#       the int8 tiny.en and the spoken clips into /tmp; waits for prepare; writes a config that
#       points the app at the CUDA llama-server and the models; runs `bestbox bench` on SECTIONS
#       (voice turns with the tool choice made in the silence window, each schema-forced tool call
#       capped at TOOL_CALL_TOKENS=40, a real model's call length: docs/benchmarks.md; the end of
#       turn fixed vs smart; hearing), then the Qwen3 light model only when FAMILY_S is set
#   call 3, carry [".gpu3"]: bash tools/gpu-bench/voice-device.sh stage3
#       spoken replies, part 1 (tools/gpu-bench/pack-speak.sh): onnxruntime and its wheels into
#       /tmp/site, espeak-ng (a separate GPL program with its own libraries) into /tmp/espeak, the
#       voice's first 15 MiB into /tmp/voice; checks that onnxruntime imports and espeak-ng speaks
#   call 4, carry [".gpu4"]: bash tools/gpu-bench/voice-device.sh stage4
#       the rest of the voice (sha256 checked); `bestbox bench --only speak` (time to first audio per
#       engine, voice to voice on the GPU servers + Whisper on CUDA) with stage2's config and clips
#
# /tmp survives between calls on the same warm machine (the repo's ignored folders do not), so
# the second call must follow the first within the machine's warm time. Results go to $OUT.
set -uo pipefail
R=$(pwd)
W=${GPU_WORK:-/tmp/gpu-work}
export GPU_WORK=$W
O=${OUT:-$W/out}
mkdir -p "$W/logs" "$O"
t_call=$(date +%s)
elapsed() { echo $(( $(date +%s) - t_call )); }

site() {   # the app's dependencies that the image lacks (pydantic, openai, ctranslate2, ...)
  if [ ! -f /tmp/site/.done ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpu/whl/*.whl \
      || { echo "wheel install failed"; return 1; }
    # faster_whisper imports PyAV at import time for file decoding; the app hands it numpy audio.
    mkdir -p /tmp/site/av && echo '"""Stand-in: PyAV is not on the GPU machine; audio arrives as numpy."""' > /tmp/site/av/__init__.py
    touch /tmp/site/.done
  fi
}

cublas_shim() {   # ctranslate2's wheel dlopens CUDA 12's cuBLAS; the image has CUDA 13's (asr-device.sh)
  local sp c12 c13
  sp=$(python3 -c 'import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))' 2>/dev/null)
  c12=$(find "$sp" /usr/local/cuda*/ /usr/lib/x86_64-linux-gnu -name 'libcublas.so.12*' 2>/dev/null | head -1)
  c13=$(find "$sp" /usr/local/cuda*/ -name 'libcublas.so.13*' 2>/dev/null | head -1)
  mkdir -p /tmp/shim
  if [ -z "$c12" ] && [ -n "$c13" ]; then
    ln -sf "$c13" /tmp/shim/libcublas.so.12
    export LD_LIBRARY_PATH=/tmp/shim:$(dirname "$c13"):${LD_LIBRARY_PATH:-}
    echo "cuBLAS: libcublas.so.12 -> $c13"
  elif [ -n "$c12" ]; then
    export LD_LIBRARY_PATH=$(dirname "$c12"):${LD_LIBRARY_PATH:-}
  fi
}

write_config() {
  local B=$W/build-cuda/bin
  cat > "$W/bestbox.toml" <<EOF
[llama]
server_binary = "$B/llama-server"

[servers.heavy]
model = "$W/models/qwen2.5-14b-random-Q4_K_M.gguf"
n_gpu_layers = 999
# Random weights never write a native <tool_call>: the JSON-schema-forced call is the path that
# works with any model (the app picks it itself for a model without tool support).
tools_mode = "schema"

[servers.light]
model = "$W/models/qwen2.5-7b-random-Q5_K_M.gguf"
n_gpu_layers = 99
tools_mode = "schema"

[speech]
whisper_model = "$W/whisper"
device = "cuda"
compute_type = "float16"
EOF
}

stage1() {
  site || return 1
  BUDGET_S=${BUDGET_S:-540} bash tools/gpu-bench/device.sh stage1
}

stage2() {
  rm -rf "$W/whisper" "$W/bench-out"; mkdir -p "$W/bench-out"
  cp -r .gpu2/whisper "$W/whisper" && cp -r .gpu2/wav "$W/bench-out/wav" || { echo "no .gpu2"; return 1; }
  site || return 1
  # wheels added after .gpu was full (jellyfish: speech/mend.py; json-repair: agents/salvage.py)
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site --upgrade \
    .gpu2/whl/*.whl || { echo "gpu2 wheel install failed"; return 1; }
  while [ ! -f "$W/done.prepare" ] && [ ! -f "$W/failed" ] && [ "$(elapsed)" -lt 240 ]; do
    sleep 10; echo "[$(elapsed)s] waiting for prepare: $(tail -n 1 "$W/logs/prepare.log")"
  done
  [ -f "$W/done.prepare" ] || { echo "prepare not done: $(cat "$W/failed" 2>/dev/null)"; return 1; }
  cublas_shim
  write_config
  export PYTHONPATH="/tmp/site:$R/app" BESTBOX_CONFIG=$W/bestbox.toml BESTBOX_DATA_DIR=$W/data PYTHONUNBUFFERED=1
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$O/gpu.txt"
  # GPU memory every 5 s: the peak is everything loaded at once (two servers, Whisper, the team's server)
  ( while sleep 5; do echo "$(elapsed) $(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits)"; done ) >> "$O/gpu.txt" 2>&1 &
  local mon=$!
  local main_end=$(( ${END_BY_S:-570} - ${FAMILY_S:-0} ))
  local sections=${SECTIONS:-servers,router,asr,cleanup,turns,load,team,turn_end,hearing}
  echo "bench until ${main_end}s, sections $sections"
  timeout $(( main_end - $(elapsed) )) python3 -m bestbox bench --json --no-ui --out "$W/bench-out" \
    --only "$sections" --repeats "${REPEATS:-3}" --tool-call-tokens "${TOOL_CALL_TOKENS:-auto}" \
    > "$O/bench.json" 2> "$O/bench.log"
  echo "bench rc=$? after $(elapsed)s"
  [ -s "$O/bench.json" ] || cp "$W/bench-out/bench.partial.json" "$O/bench.json" 2>/dev/null
  # A current family beside Qwen2.5: the Qwen3-8B-shaped model as the light server, same sections
  # that tell routing and first-token cost (the heavy stays the 14B).
  if [ "${FAMILY_S:-0}" -gt 0 ] && [ -f "$W/done.q3" ] && [ $(( ${END_BY_S:-570} - $(elapsed) )) -gt 60 ]; then
    sed "s|$W/models/qwen2.5-7b-random-Q5_K_M.gguf|$W/models/qwen3-8b-random-Q4_K_M.gguf|" "$W/bestbox.toml" > "$W/bestbox-q3.toml"
    BESTBOX_CONFIG=$W/bestbox-q3.toml timeout $(( ${END_BY_S:-570} - $(elapsed) - 15 )) python3 -m bestbox bench --json \
      --no-ui --out "$W/bench-q3" --only router,servers --repeats "${REPEATS:-3}" > "$O/bench-qwen3.json" 2>> "$O/bench.log"
    echo "qwen3 bench rc=$? after $(elapsed)s"
    [ -s "$O/bench-qwen3.json" ] || cp "$W/bench-q3/bench.partial.json" "$O/bench-qwen3.json" 2>/dev/null
  else
    echo "no Qwen3 run (FAMILY_S=${FAMILY_S:-0}; $( [ -f "$W/done.q3" ] && echo 'model ready' || echo 'model not ready'))"
  fi
  kill $mon 2>/dev/null
  (cd "$W" && tar cf "$O/plots.tar" bench-out/*.png bench-q3/*.png 2>/dev/null)
  tail -n 30 "$O/bench.log"
}

# SPEAK_TMP (default /tmp) holds espeak-ng and the voice between calls 3 and 4. A dry run HERE, against
# CPU servers: SPEAK_DRY=1 PY=<venv python> GPU_WORK=<dir with bestbox.toml> SPEAK_TMP=<dir>
# (no wheels installed: the venv has them).
T=${SPEAK_TMP:-/tmp}
PY=${PY:-python3}

stage3() {
  [ -d .gpu3 ] || { echo "no .gpu3 (tools/gpu-bench/pack-speak.sh)"; return 1; }
  if [ -z "${SPEAK_DRY:-}" ]; then
    site || return 1
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
      .gpu3/whl/*.whl || { echo "onnxruntime wheels failed"; return 1; }
  fi
  rm -rf "$T/espeak" "$T/voice" && cp -r .gpu3/espeak "$T/espeak" && mkdir -p "$T/voice"
  cp .gpu3/voice.a "$T/voice/voice.a"
  PYTHONPATH=/tmp/site "$PY" -c 'import onnxruntime as o; print("onnxruntime", o.__version__, o.get_available_providers())'
  "$T/espeak/bin/espeak-ng" -q --ipa -v en-us "the top vendors by spend" || { echo "espeak-ng does not run"; return 1; }
  touch "$T/voice/.stage3"
}

stage4() {
  [ -f "$T/voice/.stage3" ] || { echo "run stage3 first (same warm machine)"; return 1; }
  [ -d .gpu4 ] || { echo "no .gpu4 (tools/gpu-bench/pack-speak.sh)"; return 1; }
  local V=$T/voice/en_US-joe-medium.onnx
  cat "$T/voice/voice.a" .gpu4/voice.b > "$V" && cp .gpu4/en_US-joe-medium.onnx.json "$V.json"
  [ "$(sha256sum "$V" | cut -d' ' -f1)" = "$(cat .gpu4/voice.sha256)" ] || { echo "voice sha256 mismatch"; return 1; }
  [ -f "$W/bestbox.toml" ] || { [ -d "$W/build-cuda" ] && write_config; } || { echo "no stage1/2 on this machine"; return 1; }
  { cat "$W/bestbox.toml"; printf '\n[voice_out]\nengine = "piper"\nvoice = "%s"\n' "$V"; } > "$W/bestbox-speak.toml"
  [ -n "${SPEAK_DRY:-}" ] || cublas_shim
  mkdir -p "$W/bench-speak" && { [ -d "$W/bench-out/wav" ] && cp -rn "$W/bench-out/wav" "$W/bench-speak/" || true; }
  local site_dir=/tmp/site; [ -z "${SPEAK_DRY:-}" ] || site_dir=""
  export PATH=$T/espeak/bin:$PATH PYTHONPATH="${site_dir:+$site_dir:}$R/app" BESTBOX_CONFIG=$W/bestbox-speak.toml \
    BESTBOX_DATA_DIR=$W/data PYTHONUNBUFFERED=1
  timeout $(( ${END_BY_S:-570} - $(elapsed) )) "$PY" -m bestbox bench --json --no-ui --out "$W/bench-speak" \
    --only speak --repeats "${REPEATS:-3}" --tool-call-tokens "${TOOL_CALL_TOKENS:-auto}" \
    > "$O/bench-speak.json" 2> "$O/bench-speak.log"
  echo "speak bench rc=$? after $(elapsed)s"
  [ -s "$O/bench-speak.json" ] || cp "$W/bench-speak/bench.partial.json" "$O/bench-speak.json" 2>/dev/null
  tail -n 20 "$O/bench-speak.log"
}

# Sourced (fast-device.sh reuses site, cublas_shim, write_config): define only, run nothing.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
  stage1) stage1 ;;
  stage2) stage2 ;;
  stage3) stage3 ;;
  stage4) stage4 ;;
  *) echo "usage: $0 stage1|stage2|stage3|stage4" >&2; exit 2 ;;
esac
