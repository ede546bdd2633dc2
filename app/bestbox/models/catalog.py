"""The models BestBox knows how to download, as data (the TOML table below), plus helpers to name
any other Hugging Face `repo` + `file`.

Split GGUFs. Qwen publishes its Q4_K_M/Q5_K_M GGUFs in parts (`…-00001-of-00003.gguf`, …). We
download every part into one folder and point the server's `model` at the first part: llama.cpp
loads the other parts from the same folder when it is given part 1. Nothing is merged (a merge
would need the disk space twice and a llama.cpp tool). The folder defaults to the one of the
configured model (`~/models/14b`, `~/models/7b` with the default config).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

# Kept as text in the module (not a separate file) so it ships in wheels and PyInstaller bundles
# without a package-data entry. `approx_gb` is for display only; the server's Content-Length and
# sha256 are what a download checks.
CATALOG_TOML = """
[heavy]
label = "Qwen2.5-14B-Instruct Q4_K_M"
repo = "Qwen/Qwen2.5-14B-Instruct-GGUF"
revision = "main"
files = [
  "qwen2.5-14b-instruct-q4_k_m-00001-of-00003.gguf",
  "qwen2.5-14b-instruct-q4_k_m-00002-of-00003.gguf",
  "qwen2.5-14b-instruct-q4_k_m-00003-of-00003.gguf",
]
default_dir = "~/models/14b"
approx_gb = 9.0

[light]
label = "Qwen2.5-7B-Instruct Q5_K_M"
repo = "Qwen/Qwen2.5-7B-Instruct-GGUF"
revision = "main"
files = [
  "qwen2.5-7b-instruct-q5_k_m-00001-of-00002.gguf",
  "qwen2.5-7b-instruct-q5_k_m-00002-of-00002.gguf",
]
default_dir = "~/models/7b"
approx_gb = 5.4
"""

_SPLIT = re.compile(r"^(?P<stem>.+)-(?P<i>\d{5})-of-(?P<n>\d{5})\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelEntry:
    """One downloadable model: a repo and its file(s). `files[0]` is what the config points at."""

    name: str                 # the server it is for (heavy / light), or "custom"
    label: str
    repo: str
    files: tuple[str, ...]
    revision: str = "main"
    default_dir: str = "~/models"
    approx_gb: float | None = None

    @property
    def main_file(self) -> str:
        return self.files[0]

    def dest_dir(self, configured_model: str = "", override: str | Path | None = None) -> Path:
        """--dir, else the folder of the configured model, else the catalog's folder."""
        if override:
            return Path(override).expanduser()
        if configured_model:
            return Path(configured_model).expanduser().parent
        return Path(self.default_dir).expanduser()

    def paths(self, folder: Path) -> list[Path]:
        return [folder / f for f in self.files]


def load_catalog(text: str = CATALOG_TOML) -> dict[str, ModelEntry]:
    raw = tomllib.loads(text)
    out = {}
    for name, d in raw.items():
        out[name] = ModelEntry(name=name, label=d.get("label", d["repo"]), repo=d["repo"],
                               files=tuple(d["files"]), revision=d.get("revision", "main"),
                               default_dir=d.get("default_dir", "~/models"), approx_gb=d.get("approx_gb"))
    return out


CATALOG: dict[str, ModelEntry] = load_catalog()


def split_parts(file: str) -> list[str]:
    """`x-00001-of-00003.gguf` → all three part names; any other name → itself."""
    m = _SPLIT.match(file.rsplit("/", 1)[-1])
    if not m:
        return [file]
    prefix = file[: len(file) - len(m.group(0))]
    n = int(m.group("n"))
    width = len(m.group("n"))
    return [f"{prefix}{m.group('stem')}-{i:0{width}d}-of-{m.group('n')}.gguf" for i in range(1, n + 1)]


def custom_entry(name: str, repo: str, files: list[str] | tuple[str, ...], revision: str = "main") -> ModelEntry:
    """Any repo + file(s) the user names. A split first part brings its other parts along."""
    if not repo or "/" not in repo:
        raise ValueError(f"repo must look like owner/name, not {repo!r}")
    if not files:
        raise ValueError("name at least one file")
    expanded: list[str] = []
    for f in files:
        for p in split_parts(f):
            if p not in expanded:
                expanded.append(p)
    base = CATALOG.get(name)
    return ModelEntry(name=name, label=expanded[0], repo=repo, files=tuple(expanded), revision=revision,
                      default_dir=base.default_dir if base else "~/models")


def entry_for(name: str) -> ModelEntry:
    try:
        return CATALOG[name]
    except KeyError:
        raise ValueError(f"no catalog model for {name!r}: use {', '.join(CATALOG)}") from None
