"""A model for one server: download it (`download.download_model`) into the right folder and point
the server's `model` key in the config file at it, keeping the file's comments."""
from __future__ import annotations

from pathlib import Path

from .catalog import ModelEntry, entry_for
from .download import DownloadError, download_model
from .progress import ProgressCallback


def set_config_model(config_path: Path, name: str, model: Path) -> None:
    """Point [servers.NAME] model at `model`, keeping the file's comments (config.set_value)."""
    from .. import config as config_mod

    try:
        if not Path(config_path).exists():
            config_mod.load(Path(config_path))  # writes the commented defaults first
        config_mod.set_value(Path(config_path), ("servers", name, "model"), str(model))
    except Exception as e:  # noqa: BLE001 - tomlkit parse errors, permissions
        raise DownloadError(f"downloaded {model}, but could not update {config_path}: {e}. Set "
                            f"[servers.{name}] model = \"{model}\" yourself", "config") from e


def target_folder(name: str, entry: ModelEntry, config_path: Path | None, folder: str | Path | None) -> Path:
    """--dir, else the folder of the configured model, else the catalog's folder."""
    from .. import config as config_mod

    configured = ""
    if folder is None and config_path is not None:
        try:
            configured = config_mod.load(Path(config_path), create=False).config.server(name).model
        except Exception:  # noqa: BLE001
            configured = ""
    return entry.dest_dir(configured, folder)


async def download_for_server(name: str, *, config_path: Path | None = None, folder: str | Path | None = None,
                              entry: ModelEntry | None = None, endpoint: str | None = None,
                              token: str | None = None, progress: ProgressCallback | None = None,
                              update_config: bool = True, retries: int = 3) -> Path:
    """Download the model for server `name` (catalog or `entry`) and point its config at it.
    Returns the path the config now names (the first file)."""
    from .. import paths

    entry = entry or entry_for(name)
    config_path = Path(config_path) if config_path else paths.config_file()
    dest = target_folder(name, entry, config_path, folder)
    files = await download_model(entry, dest, endpoint=endpoint, token=token, progress=progress, retries=retries)
    if update_config:
        set_config_model(config_path, name, files[0])
    return files[0]
