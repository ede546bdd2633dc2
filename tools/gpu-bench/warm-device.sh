#!/usr/bin/env bash
# ON THE GPU MACHINE, right after fast-device.sh on the same warm machine (its build, models, config
# and /tmp/site stay in /tmp between calls; the repo's carried folders do not):
#
#   call 2, carry [".gpu3"]:  bash tools/gpu-bench/warm-device.sh a
#       voice-device.sh stage3 (onnxruntime, espeak-ng as a separate program, the voice's first part),
#       then `bestbox bench --only turn_end`: the labelled end-of-turn set (39 clips, spoken there by the
#       packed espeak-ng, the same build as here) in real time, fixed vs smart, GPU Whisper and servers
#   call 3, carry [".gpu4"]:  bash tools/gpu-bench/warm-device.sh b
#       voice-device.sh stage4 (the rest of the voice) and `bestbox bench --only speak`: voice to voice,
#       answer-ahead on/off, time to first audio per engine
#
# Each call must follow the last within the machine's warm time (~30 s idle). Results go to $OUT as
# they come (bench-<step>.json, or the partial document when a call is cut short).
# A dry run HERE against CPU servers: DRY=1 PY=.venv/bin/python GPU_WORK=<fast-device's work dir>
#   SPEAK_TMP=<dir> OUT=<dir> QUICK=1 bash tools/gpu-bench/warm-device.sh a|b
set -uo pipefail
source "$(dirname "$0")/voice-device.sh"    # R W O T PY elapsed stage3 stage4 cublas_shim (runs nothing)
END_BY=${END_BY_S:-560}
DRY=${DRY:-}
[ -n "$DRY" ] && export SPEAK_DRY=1

bench_env() {   # the environment fast-device.sh ran the bench in, plus the packed espeak-ng
  local site_dir=/tmp/site; [ -z "$DRY" ] || site_dir=""
  [ -n "$DRY" ] || cublas_shim
  export PATH=$T/espeak/bin:$PATH PYTHONPATH="${site_dir:+$site_dir:}$R/app" BESTBOX_DATA_DIR=$W/data \
    PYTHONUNBUFFERED=1 BESTBOX_CONFIG=${BESTBOX_CONFIG:-$W/bestbox.toml}
}

step_a() {
  [ -f "$W/bestbox.toml" ] || { echo "no fast-device.sh run on this machine ($W/bestbox.toml)"; return 1; }
  stage3 || return 1
  bench_env
  echo "[$(elapsed)s] espeak-ng: $(command -v espeak-ng)"
  timeout $(( END_BY - $(elapsed) )) "$PY" -m bestbox bench --json --no-ui --out "$W/bench-te" --only turn_end \
    ${QUICK:+--quick} --tool-call-tokens auto > "$O/bench-turn_end.json" 2> "$O/bench-turn_end.log"
  echo "[$(elapsed)s] turn_end bench rc=$?"
  [ -s "$O/bench-turn_end.json" ] || cp "$W/bench-te/bench.partial.json" "$O/bench-turn_end.json" 2>/dev/null
  tail -n 15 "$O/bench-turn_end.log"
}

step_b() {
  # stage4 runs the speak bench itself, with these settings
  TOOL_CALL_TOKENS=auto REPEATS=${REPEATS:-3} END_BY_S=$END_BY stage4
}

case "${1:-}" in
  a) step_a ;;
  b) step_b ;;
  *) echo "usage: $0 a|b" >&2; exit 2 ;;
esac
