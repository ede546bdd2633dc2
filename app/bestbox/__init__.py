"""BestBox: a local-first desktop voice assistant on two llama.cpp servers."""
from importlib import metadata as _metadata

try:  # one version number, from the package metadata (pyproject.toml)
    __version__ = _metadata.version("bestbox")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
