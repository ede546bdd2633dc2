"""Imports the first turn would otherwise do on the UI thread, done ahead in a worker thread.

The pipeline imports its agents and tools when a turn first needs them, and `openai`/`httpx`
import their HTTP machinery on the first request. Measured: that cost the first streamed answer a
330–630 ms stall of the event loop (PySide's import hook makes every import dearer still)."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import pkgutil

log = logging.getLogger(__name__)

MODULES = [
    "bestbox.agents.loop",
    "bestbox.speech.voice_turn",
    "openai.resources.chat",
    "openai.lib.streaming.chat",
    "openai.pagination",
    "jiter",
    "truststore",
]
# Packages whose every submodule may be needed at request time (the HTTP core httpx uses, the tools).
PACKAGES = ["bestbox.agents", "httpcore", "httpcore2", "h11"]
SKIP = ("trio", "h2", "socks", "_backends.trio", "http2", "test")


def _import(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except Exception as e:  # noqa: BLE001 - optional modules (h2, trio…) may be missing
        log.debug("warm-up: %s not imported: %s", name, e)
        return False


def warm_imports() -> int:
    """Run in a worker thread. Returns how many modules were imported (or already were)."""
    n = 0
    for name in MODULES:
        n += _import(name)
    for pkg in PACKAGES:
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        n += _import(pkg)
        for info in pkgutil.walk_packages(spec.submodule_search_locations, prefix=pkg + "."):
            if any(part in info.name.split(".")[-1] for part in SKIP):
                continue
            n += _import(info.name)
    return n


def freeze_long_lived_objects() -> int:
    """Move everything alive now (modules, classes, Whisper, the routers' tables) out of the
    garbage collector's reach. Measured during a voice turn: a full (generation 2) collection
    walked all those long-lived objects on whichever thread triggered it, holding the GIL for
    100–900 ms — the UI loop's worst stall. Frozen objects are never traversed again; what a turn
    creates afterwards is still collected normally. Returns how many objects are frozen."""
    import gc

    gc.freeze()
    return gc.get_freeze_count()
