"""bench section `wake` (opt-in: `bestbox bench --only wake`): the bundled wake word models.

- detection rate: the wake phrase spoken by espeak-ng in several voices and speeds, each clip with
  quiet around it, fed in live-sized blocks (30 ms) exactly as the listener does;
- false accepts per hour: at least one hour (--quick: 10 minutes) of espeak-ng reading varied English
  (the docstrings of Python's standard library, sentences naming any wake word dropped), voices and
  speeds rotating. The generated audio is cached in the data dir (bench/wake/), so reruns only detect;
- the detector's CPU cost as a real-time factor (processing time / audio time).
espeak-ng is not a person: these numbers compare models and thresholds; they are not a field rate."""
from __future__ import annotations

import ast
import asyncio
import hashlib
import io
import re
import subprocess
import sysconfig
import time
import wave
from pathlib import Path

import numpy as np

from .context import Ctx

VOICES = ("en-us", "en", "en-us+f3", "en-us+m3", "en+f2", "en-us+klatt")
SPEEDS = (130, 160, 190)
NEGATIVE_S = {"full": 3600.0, "quick": 600.0}
RATE = 16000
CACHE_VERSION = 1


def _espeak(text: str, voice: str, speed: int) -> np.ndarray:
    from ..audio.resample import resample
    from ..speak.phonemes import espeak_binary

    raw = subprocess.run([espeak_binary(), "-v", voice, "-s", str(speed), "--stdout", "--", text],
                         capture_output=True, check=True, timeout=300).stdout
    with wave.open(io.BytesIO(raw)) as w:
        sr = w.getframerate()
        a = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0
    return resample(a, sr)


def _quiet(s: float) -> np.ndarray:
    return np.zeros(int(s * RATE), np.float32)


def detection_rate(model: str) -> dict:
    from ..speech.wake import detections_in, phrase

    said = phrase(model).lower()
    clips = [(v, s) for v in VOICES for s in SPEEDS]
    missed = []
    for v, s in clips:
        clip = np.concatenate([_quiet(0.5), _espeak(said, v, s), _quiet(1.0)])
        if not detections_in(model, clip):
            missed.append(f"{v}@{s}")
    return {"phrase": said, "clips": len(clips), "detected": len(clips) - len(missed),
            "rate": round((len(clips) - len(missed)) / len(clips), 3), "missed": missed}


def _sentences(banned: re.Pattern) -> list[str]:
    """Plain English sentences from the standard library's docstrings, in a fixed order."""
    out = []
    for p in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        try:
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8", errors="replace")))
        except (SyntaxError, ValueError):
            continue
        for s in re.split(r"(?<=[.!?])\s+", " ".join((doc or "").split())):
            letters = sum(c.isalpha() for c in s)
            if len(s) > 30 and letters > 0.7 * len(s) and not banned.search(s):
                out.append(s)
    return out


def negatives(seconds: float, cache_dir: Path, log=lambda m: None) -> np.ndarray:
    """`seconds` of espeak-ng speech without any wake word (16 kHz int16), cached on disk."""
    from ..speech.wake import MODELS

    words = sorted({w.lower() for p in MODELS.values() for w in p.split() if w.lower() not in ("hey", "okay")})
    banned = re.compile(r"\b(" + "|".join(words) + r")\b", re.I)
    key = hashlib.sha256(f"{CACHE_VERSION}{seconds}{VOICES}{SPEEDS}{words}".encode()).hexdigest()[:12]
    path = cache_dir / f"negatives-{int(seconds)}s-{key}.npy"
    if path.exists():
        return np.load(path)
    sentences = _sentences(banned)
    parts, total, i, n = [], 0, 0, 0
    while total < seconds * RATE and sentences:
        chunk = " ".join(sentences[i:i + 25])
        i = (i + 25) % max(1, len(sentences) - 25)
        a = _espeak(chunk, VOICES[n % len(VOICES)], SPEEDS[n % len(SPEEDS)])
        n += 1
        parts.append((np.clip(a, -1, 1) * 32767).astype("<i2"))
        total += len(a)
        if n % 20 == 0:
            log(f"  wake: generated {total / RATE / 60:.0f} of {seconds / 60:.0f} minutes of speech")
    audio = np.concatenate(parts)[:int(seconds * RATE)]
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, audio)
    return audio


def false_accepts(model: str, audio16: np.ndarray) -> dict:
    from ..speech.wake import detections_in

    t = time.perf_counter()
    hits = detections_in(model, audio16.astype(np.float32) / 32768.0)
    cpu_s = time.perf_counter() - t
    hours = len(audio16) / RATE / 3600
    return {"hours": round(hours, 3), "false_accepts": len(hits), "per_hour": round(len(hits) / hours, 2),
            "at_s": [round(h.at_sample / RATE, 1) for h in hits][:20], "rtf": round(cpu_s / (hours * 3600), 4)}


def _run(ctx: Ctx) -> dict:
    from .. import paths
    from ..speech.wake import MODELS, WakeDetector

    WakeDetector("okay_nabu").close()  # fails here, with its message, when pymicro-wakeword is missing
    seconds = NEGATIVE_S["quick" if ctx.opt.quick else "full"]
    neg = negatives(seconds, paths.data_dir() / "bench" / "wake", ctx.opt.log)
    models = {}
    for m in MODELS:
        ctx.opt.log(f"  wake: {m}")
        models[m] = {"cutoff": WakeDetector(m).cutoff, "detection": detection_rate(m), "false": false_accepts(m, neg)}
    return {"configured": ctx.cfg.voice_in.wake_word, "negative_s": round(len(neg) / RATE), "voices": list(VOICES),
            "speeds": list(SPEEDS), "models": models}


async def bench_wake(ctx: Ctx) -> dict:
    return await asyncio.get_running_loop().run_in_executor(None, _run, ctx)


def wake_lines(res: dict, add) -> None:
    w = res.get("wake") or {}
    if not w:
        return
    add("")
    add(f"Wake word (espeak-ng: {len(w['voices'])} voices x {len(w['speeds'])} speeds; "
        f"{w['negative_s'] / 3600:.2f} h of speech without it)")
    for m, r in w["models"].items():
        d, f = r["detection"], r["false"]
        add(f"  {m:<12} detected {d['detected']}/{d['clips']} ({d['rate'] * 100:.0f} %) · false accepts "
            f"{f['false_accepts']} = {f['per_hour']:.2f}/h · cutoff {r['cutoff']:.2f} · CPU RTF {f['rtf']:.3f}")
