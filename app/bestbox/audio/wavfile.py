"""Read an audio file as 16 kHz mono float32: stdlib `wave` for PCM WAV, PyAV (ships with
faster-whisper) for anything else (float WAV, FLAC, MP3, OGG, M4A...). Errors are `AudioFileError`
with a message meant for the user."""
from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .resample import TARGET_RATE, resample, to_mono

MIN_RATE, MAX_RATE = 8000, 192000


class AudioFileError(ValueError):
    pass


@dataclass
class AudioFile:
    audio: np.ndarray  # 16 kHz mono float32
    source_rate: int
    channels: int
    duration_s: float
    decoder: str


def _check_rate(path: Path, rate: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioFileError(f"{path.name}: unsupported sample rate {rate} Hz "
                             f"(speech needs {MIN_RATE}-{MAX_RATE} Hz; 16 kHz or more is best)")


def _read_wave(path: Path) -> AudioFile:
    with wave.open(str(path), "rb") as w:
        ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
        raw = w.readframes(n)
    _check_rate(path, rate)
    if width == 1:
        a = np.frombuffer(raw, dtype=np.uint8)
    elif width == 2:
        a = np.frombuffer(raw, dtype="<i2")
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8)
        b = b[: len(b) // 3 * 3].reshape(-1, 3)
        a = (b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16))
        a = np.where(a >= 1 << 23, a - (1 << 24), a).astype(np.int32) << 8
    elif width == 4:
        a = np.frombuffer(raw, dtype="<i4")
    else:
        raise AudioFileError(f"{path.name}: unsupported sample width {width} bytes")
    a = a[: len(a) // ch * ch].reshape(-1, ch)
    return AudioFile(resample(to_mono(a), rate), rate, ch, len(a) / rate, "wave")


def _read_av(path: Path) -> AudioFile:
    try:
        import av
    except ImportError as e:
        raise AudioFileError(f"{path.name}: not a PCM WAV file, and PyAV is not installed to decode it") from e
    try:
        with av.open(str(path)) as c:
            streams = [s for s in c.streams if s.type == "audio"]
            if not streams:
                raise AudioFileError(f"{path.name}: the file has no audio stream")
            st = streams[0]
            rate = int(st.codec_context.sample_rate or st.rate or 0)
            ch = int(st.codec_context.channels or 1)
            _check_rate(path, rate)
            res = av.AudioResampler(format="flt", layout="mono", rate=TARGET_RATE)
            parts = []
            for frame in c.decode(st):
                for f in res.resample(frame):
                    parts.append(f.to_ndarray().reshape(-1))
            for f in res.resample(None):
                parts.append(f.to_ndarray().reshape(-1))
    except AudioFileError:
        raise
    except Exception as e:  # av.error.InvalidDataError and friends
        raise AudioFileError(f"{path.name}: not a readable audio file ({type(e).__name__}: {e})") from e
    audio = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    return AudioFile(audio, rate, ch, len(audio) / TARGET_RATE, "av")


def read_audio(path: str | Path) -> AudioFile:
    p = Path(path).expanduser()
    if not p.exists():
        raise AudioFileError(f"{p}: no such file")
    if p.is_dir():
        raise AudioFileError(f"{p}: is a folder, not an audio file")
    size = p.stat().st_size
    if size == 0:
        raise AudioFileError(f"{p.name}: the file is empty (0 bytes)")
    try:
        af = _read_wave(p)
    except AudioFileError:
        raise
    except (wave.Error, EOFError, ValueError, OSError):
        af = _read_av(p)  # not PCM WAV (float WAV, FLAC, MP3...) or damaged: let FFmpeg judge
    if af.audio.size < TARGET_RATE // 10:
        raise AudioFileError(f"{p.name}: contains no audio ({af.duration_s * 1000:.0f} ms)")
    return af


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """16-bit PCM mono WAV (clipped to [-1, 1]); the parent folder is made if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path
