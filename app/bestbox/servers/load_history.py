"""How long each model took to become ready last time (`load_times.json` in the state directory),
so the next load of the same model can show progress where its log says little."""
from __future__ import annotations

import json
from pathlib import Path


class LoadHistory:
    """Seconds from spawn to ready, per model path. Read and written whole each time: the file is
    shared by the servers of one state directory and stays tiny."""

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / "load_times.json"

    def all(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def get(self, model: str) -> float | None:
        return self.all().get(model)

    def remember(self, model: str, seconds: float) -> None:
        times = self.all()
        times[model] = round(seconds, 2)
        try:
            self.path.write_text(json.dumps(times, indent=1))
        except OSError:
            pass
