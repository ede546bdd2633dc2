"""One voice turn: record (or read a file) → end of speech → transcript → cleanup ∥ answer.

Events (`VoiceEvent.kind`, `data` keys), delivered on the event loop via `on_event` and `events()`:
    recording_started   device, samplerate, mode
    level               dbfs (≈ 20 per second while recording)
    speech_started      at_s
    silence_started     at_s (the speculative transcription starts here)
    speech_resumed      at_s (the speculation is discarded)
    recording_stopped   reason (vad_end | stopped | max_length | device_error | cancelled | file),
                        audio_s, dropped_blocks, error (a device that went away; audio is kept)
    transcribing        audio_s, speculative (bool)
    transcript_raw      text, confident, asr_ms, avg_logprob, no_speech_prob, reused_speculation
    no_speech           message ("I didn't catch that."), reason; nothing else is sent on
    transcript_clean    text, raw, cleaned, changed, reason, cleanup_ms  (replaces the raw bubble text)
    answer              event (the pipeline's TurnEvent), answer_kind (its kind)
    error               message
    ended               result (the dict `bestbox voice --json` prints)

The turn's clock (`TurnTrace.t0_ms`) is the capture time of the last voiced sample, so
`timings.speech_end_to_first_token_ms` is what the user waits after they stop talking. For a file
read at once, the clock starts when the file's speech end is known (decoded and scanned).

Speculation: the silence window (`speech.vad_silence_ms`, default 700 ms) is the largest wait in
a turn. When the detector reports `silence_started` (160 ms after the last voiced frame), what
has been recorded so far is transcribed in the Whisper worker; if speech resumes, that result is
discarded (one speculation runs at a time, so a stale one never queues up behind another); when the
turn ends with the same last voiced sample, the result is reused and the answer starts at once.

Cleanup vs answering, decided from measurements (2-core CPU shared with other builds, so absolute
numbers are noisy; SmolLM2-135M as the light model, glossary prompt cached): cleanup generates
9-14 tokens and took 1.3-10.7 s (median 3.6 s) against 0.6-6.1 s (median 1.1 s) for a grammar-label
routing call on the same server — about 3x the routing cost — while Whisper with the glossary
prompt got all five espeak requests' domain words right with mean token log-prob -0.16..-0.26.
Cleanup would add its whole cost to every turn for a mostly cosmetic gain, so:
  * confident transcript (mean token log-prob > -0.7, no_speech_prob < 0.5) and no word that is a
    near miss of a glossary term → answer the raw text now; cleanup runs after the answer and only
    updates the displayed text (`transcript_clean`). It first ran concurrently with the answer:
    then, with both servers on the same CPU cores (the demo, any CPU-only setup), the light
    server's cleanup and the heavy server's tool choice fought over them and the tool choice took
    4.0 s instead of 1.1 s (`bestbox bench`, voice turns, 2 cores). After the answer it costs the
    answer nothing on any hardware; the bubble's text is corrected a little later;
  * otherwise (low confidence, or e.g. "menders" next to the glossary's "vendors") → cleanup
    first, bounded by `cleanup_timeout_s` (2 s), and the answer gets the cleaned text when the
    judge accepted it, the raw text when not: a wrong domain word costs more than the wait.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Awaitable, Callable

import numpy as np

from ..audio.devices import MicrophoneUnavailable
from ..audio.recorder import Recorder
from ..audio.vad import EndpointDetector, find_speech, silero_speech_ms
from ..audio.wavfile import AudioFileError, read_audio
from ..config import Config
from ..trace import Stage, TurnTrace, now_ms
from .cleanup import CleanupResult, clean_transcript, light_client
from .glossary import Glossary
from .transcriber import Transcriber, Transcript, TranscriberUnavailable, loudest_frame_dbfs

log = logging.getLogger(__name__)
RATE = 16000
DIDNT_CATCH = "I didn't catch that."
TAIL_S = 0.3  # audio kept after the last voiced sample for Whisper

VOICE_EVENT_KINDS = ("recording_started", "level", "speech_started", "silence_started", "speech_resumed",
                     "recording_stopped", "transcribing", "transcript_raw", "no_speech", "transcript_clean",
                     "answer", "error", "ended")


@dataclass
class VoiceEvent:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in VOICE_EVENT_KINDS:
            raise ValueError(f"unknown voice event kind {self.kind!r}")


class VoiceInputError(RuntimeError):
    """A turn that could not start or hear anything: the message is for the user."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind  # microphone | file | model | no_speech | cancelled


AnswerFn = Callable[..., Awaitable[dict]]


def default_answer_fn() -> AnswerFn | None:
    """`run_text_turn` from the pipeline, wherever it lives; None when it is not built."""
    for mod in ("bestbox.pipeline.turn", "bestbox.pipeline.assistant"):
        try:
            m = __import__(mod, fromlist=["run_text_turn"])
        except ImportError:
            continue
        fn = getattr(m, "run_text_turn", None)
        if fn is not None:
            return fn
    return None


def _answer_as_heard(tr: Transcript, near_misses: list) -> bool:
    """The policy in the module doc: a confident transcript with no glossary near miss is answered
    as it was heard (cleanup only corrects the display); anything else is cleaned first."""
    return tr.confident and not near_misses


@dataclass
class _Speculation:
    last_voiced: int
    end_sample: int
    task: asyncio.Task


class VoiceSession:
    """Voice turns for one window (or one CLI call). Share one preloaded `Transcriber`.

    GUI use: `session = VoiceSession(config, transcriber=t, endpoints=mgr, assistant=a, on_event=cb)`;
    on talk: `task = asyncio.ensure_future(session.listen(mode="auto" | "hold"))`; hold-to-talk
    release / toggle off: `session.stop()`; Esc: `session.cancel()`; mute: `session.muted = True`.
    """

    def __init__(self, config: Config, *, transcriber: Transcriber | None = None, glossary: Glossary | None = None,
                 sounddevice: Any = None, on_event: Callable[[VoiceEvent], None] | None = None,
                 answer: bool = True, answer_fn: AnswerFn | None = None, endpoints: Any = None,
                 assistant: Any = None, cleanup: bool = True, cleanup_client: Any = None,
                 cleanup_timeout_s: float = 2.0, speculate: bool = True, use_silero: bool = True,
                 auto_confirm: bool | None = None, preroute: Callable[[str], None] | None = None):
        """preroute: called with a speculative transcript that the answer would take as it is, so
        routing runs in the silence window too (default: the assistant's `preroute`)."""
        self.config = config
        self.transcriber = transcriber or Transcriber(config)
        self._own_transcriber = transcriber is None
        self.glossary = glossary or Glossary.from_config(config)
        self.sounddevice = sounddevice
        self.on_event = on_event
        self.answer = answer
        self.answer_fn = answer_fn
        self.endpoints = endpoints
        self.assistant = assistant
        self.cleanup = cleanup
        self._cleanup_client = cleanup_client
        self.cleanup_timeout_s = cleanup_timeout_s
        self.speculate = speculate
        self.use_silero = use_silero
        self.auto_confirm = auto_confirm
        self.preroute = preroute or getattr(assistant, "preroute", None)
        self.context_hint: str | None = None  # e.g. the last turns' text: steers the Whisper terms
        self.muted = False  # recording continues but the audio is zeroed (mute control)
        self._recorder: Recorder | None = None
        self._stop_requested: str | None = None
        self._queues: list[asyncio.Queue] = []
        self.last_result: dict | None = None

    # -- events ----------------------------------------------------------------------------------
    def _emit(self, kind: str, **data) -> None:
        ev = VoiceEvent(kind, data)
        for q in list(self._queues):
            q.put_nowait(ev)
        if self.on_event:
            try:
                self.on_event(ev)
            except Exception:  # a listener bug must not break the turn
                log.exception("voice event listener failed on %s", kind)

    async def events(self) -> AsyncIterator[VoiceEvent]:
        """Every event from now until (and including) the next `ended`."""
        q: asyncio.Queue = asyncio.Queue()
        self._queues.append(q)
        try:
            while True:
                ev = await q.get()
                yield ev
                if ev.kind == "ended":
                    return
        finally:
            self._queues.remove(q)

    # -- controls --------------------------------------------------------------------------------
    def stop(self) -> None:
        """End the recording now and process what was said (hold-to-talk release, toggle off)."""
        self._stop_requested = self._stop_requested or "stopped"
        if self._recorder:
            self._recorder.stop("stopped")

    def cancel(self) -> None:
        """Esc: drop the recording; nothing is transcribed or sent."""
        self._stop_requested = "cancelled"
        if self._recorder:
            self._recorder.cancel()

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    def preload(self) -> asyncio.Future:
        """Load Whisper in the background now, so the first utterance does not pay for it."""
        return self.transcriber.load_async()

    # -- entry points ----------------------------------------------------------------------------
    async def listen(self, *, mode: str = "auto", device: str | None = None) -> dict:
        """Record from the microphone until end of speech (auto) or `stop()` (hold), then run the
        turn. Never raises for user-facing problems: the result has `error` and an `error` event."""
        return await self._guard(self._listen(mode=mode, device=device))

    async def run_file(self, path: str, *, realtime: bool = False) -> dict:
        """A turn from an audio file. `realtime` plays it through the recorder path in real time
        (VAD, speculation, clock from the last voiced sample) as if spoken into a microphone."""
        return await self._guard(self._run_file(path, realtime=realtime))

    async def run_audio(self, audio: np.ndarray, *, source: str = "audio") -> dict:
        """A turn from 16 kHz mono float32 audio already in memory."""
        return await self._guard(self._from_audio(audio, source=source))

    async def _guard(self, coro) -> dict:
        self._stop_requested = None
        result: dict
        try:
            result = await coro
        except VoiceInputError as e:
            result = {"error": str(e), "error_kind": e.kind}
            if e.kind == "no_speech":
                result.update(no_speech=True, transcript_raw="", transcript_clean="")
            elif e.kind != "cancelled":
                self._emit("error", message=str(e), error_kind=e.kind)
        except asyncio.CancelledError:
            self._emit("ended", result={"cancelled": True})
            raise
        except Exception as e:  # a bug: say so, keep the app alive
            log.debug("voice turn failed", exc_info=True)
            result = {"error": f"Voice turn failed: {type(e).__name__}: {e}", "error_kind": "internal"}
            self._emit("error", message=result["error"], error_kind="internal")
        finally:
            self._recorder = None
        self.last_result = result
        self._emit("ended", result=result)
        return result

    async def _run_file(self, path: str, *, realtime: bool) -> dict:
        loop = asyncio.get_running_loop()
        try:
            af = await loop.run_in_executor(None, read_audio, path)
        except AudioFileError as e:
            raise VoiceInputError(str(e), "file") from e
        if realtime:
            from ..audio.filesource import FileSoundDevice

            fake = FileSoundDevice(af.audio, RATE, name=f"file:{path}", speed=1.0,
                                   tail_silence_s=self.config.speech.vad_silence_ms / 1000 + 1.0)
            saved, self.sounddevice = self.sounddevice, fake
            try:
                return await self._listen(mode="auto", device="", source="file-realtime")
            finally:
                self.sounddevice = saved
        out = await self._from_audio(af.audio, source="file")
        out.setdefault("input", {}).update(path=str(path), source_rate=af.source_rate, channels=af.channels)
        return out

    # -- recording -------------------------------------------------------------------------------
    async def _listen(self, *, mode: str, device: str | None, source: str = "microphone") -> dict:
        sc = self.config.speech
        if not self.transcriber.ready and self.transcriber.state != "loading":
            self.transcriber.load_async()  # overlap the load with the recording
        last_level = [0.0]

        def on_level(db: float) -> None:
            t = now_ms()
            if t - last_level[0] >= 50:
                last_level[0] = t
                self._emit("level", dbfs=round(db, 1))

        rec = Recorder(device=sc.input_device if device is None else device, sounddevice=self.sounddevice,
                       max_record_s=sc.max_record_s, on_level=on_level)
        self._recorder = rec
        if self._stop_requested == "cancelled":
            raise VoiceInputError("Cancelled.", "cancelled")
        try:
            await rec.start()
        except MicrophoneUnavailable as e:
            raise VoiceInputError(str(e), "microphone") from e
        assert rec.device is not None
        self._emit("recording_started", device=rec.device.label(), samplerate=rec.samplerate, mode=mode)
        det = EndpointDetector(silence_ms=sc.vad_silence_ms, mode="hold" if mode == "hold" else "auto")
        spec: _Speculation | None = None
        ended_at_ms: float | None = None
        silence_at_end_s: float | None = None  # the silence the detector heard before closing (audio time)
        async for block in rec.blocks():
            rec.muted = self.muted
            for ev in det.feed(block.samples):
                if ev.kind == "ended":
                    ended_at_ms = now_ms()
                    silence_at_end_s = round((det.samples_seen - (det.last_voiced_sample or 0)) / RATE, 3)
                    rec.stop("vad_end")
                else:
                    self._emit(ev.kind, at_s=round(ev.at_s, 3))
            if self.speculate and det.silence_reported and not det.ended:
                spec = self._maybe_speculate(spec, det, rec)
            if self._stop_requested and not rec._stop_reason:
                rec.stop(self._stop_requested)
        if rec.end_reason == "cancelled" or self._stop_requested == "cancelled":
            if spec:
                spec.task.cancel()
            self._emit("recording_stopped", reason="cancelled", audio_s=0.0, dropped_blocks=rec.dropped_blocks)
            raise VoiceInputError("Cancelled.", "cancelled")
        audio = rec.audio()
        self._emit("recording_stopped", reason=rec.end_reason, audio_s=round(len(audio) / RATE, 3),
                   dropped_blocks=rec.dropped_blocks, error=rec.error)
        recording = {"reason": rec.end_reason, "device": rec.device.label(), "samplerate": rec.samplerate,
                     "dropped_blocks": rec.dropped_blocks, "audio_s": round(len(audio) / RATE, 3),
                     **({"device_error": rec.error} if rec.error else {}),
                     **({"silence_at_end_s": silence_at_end_s} if silence_at_end_s is not None else {})}
        if not det.speech_detected:
            if spec:
                spec.task.cancel()
            return await self._from_audio(audio, source=source, recording=recording)
        last = det.last_voiced_sample or len(audio)
        t0 = rec.sample_time_ms(last)
        trace = TurnTrace(t0_ms=t0)
        if ended_at_ms is not None:
            trace.values["vad_wait_ms"] = round(ended_at_ms - t0, 1)
        reuse = spec if (spec and spec.last_voiced == last) else None
        if spec and not reuse:
            spec.task.cancel()
        return await self._process(audio, first=det.speech_start_sample or 0, last=last, trace=trace,
                                   source=source, speculation=reuse, recording=recording)

    def _maybe_speculate(self, spec: _Speculation | None, det: EndpointDetector, rec: Recorder) -> _Speculation | None:
        last = det.last_voiced_sample
        if last is None:
            return spec
        if spec is not None and (spec.last_voiced == last or not spec.task.done()):
            return spec  # up to date, or one still running (never queue a second)
        end = min(rec.samples_recorded, last + int(TAIL_S * RATE))
        audio = rec.audio()[:end].copy()
        task = asyncio.ensure_future(self._transcribe(audio, speculative=True))
        task.add_done_callback(self._route_speculation)
        return _Speculation(last, end, task)

    def _route_speculation(self, task: asyncio.Task) -> None:
        """The silence window goes on after Whisper: route the speculative transcript in it too,
        when the answer would take that text as it is (see `_clean_and_answer`'s policy)."""
        if self.preroute is None or not self.answer or task.cancelled() or task.exception() is not None:
            return
        tr = task.result()[0]
        if tr.no_speech or not tr.text.strip():
            return
        if self.cleanup and not _answer_as_heard(tr, self.glossary.near_misses(tr.text)):
            return  # cleanup goes first: the answer will get other text
        try:
            self.preroute(tr.text.strip())
        except Exception as e:  # noqa: BLE001 - an optimisation: the turn routes as usual
            log.debug("preroute failed: %s", e)

    # -- after recording -------------------------------------------------------------------------
    async def _from_audio(self, audio: np.ndarray, *, source: str, recording: dict | None = None) -> dict:
        first, last = find_speech(audio)
        trace = TurnTrace()  # the speech end is known now
        if last is None:
            if not await self._has_speech(audio):
                raise VoiceInputError(DIDNT_CATCH_WITH_REASON(audio), "no_speech")
            first, last = 0, len(audio)
        return await self._process(audio, first=first or 0, last=last, trace=trace, source=source,
                                   speculation=None, recording=recording)

    async def _has_speech(self, audio: np.ndarray) -> bool:
        if loudest_frame_dbfs(audio) < -50:
            return False
        if not self.use_silero:
            return True
        loop = asyncio.get_running_loop()
        ms = await loop.run_in_executor(None, silero_speech_ms, audio)
        return ms is None or ms >= 200

    async def _transcribe(self, audio: np.ndarray, *, speculative: bool) -> tuple[Transcript, float, float]:
        hint = self.glossary.whisper_prompt(self.glossary.for_whisper(self.context_hint))
        start = now_ms()
        tr = await self.transcriber.transcribe(audio, initial_prompt=hint)
        return tr, start, now_ms()

    async def _process(self, audio: np.ndarray, *, first: int, last: int, trace: TurnTrace, source: str,
                       speculation: _Speculation | None, recording: dict | None) -> dict:
        end = min(len(audio), last + int(TAIL_S * RATE))
        seg = audio[:end]
        if self.use_silero and not await self._has_speech(seg):
            self._emit("no_speech", message=DIDNT_CATCH, reason="no speech found (Silero VAD)")
            raise VoiceInputError(DIDNT_CATCH + " (only noise or silence was recorded)", "no_speech")
        reused = False
        if speculation is not None and speculation.end_sample <= end:
            try:
                tr, t_start, t_end = await speculation.task
                reused = True
            except (asyncio.CancelledError, TranscriberUnavailable):
                speculation = None
        if not reused:
            self._emit("transcribing", audio_s=round(len(seg) / RATE, 3), speculative=False)
            try:
                tr, t_start, t_end = await self._transcribe(seg, speculative=False)
            except TranscriberUnavailable as e:
                raise VoiceInputError(str(e), "model") from e
        trace.stages.append(Stage("asr", t_start - trace.t0_ms, t_end - trace.t0_ms,
                                  {"audio_s": tr.audio_s, "speculative": reused}))
        trace.mark("transcript")
        self._emit("transcript_raw", text=tr.text, confident=tr.confident, asr_ms=tr.asr_ms,
                   avg_logprob=tr.avg_logprob, no_speech_prob=tr.no_speech_prob, reused_speculation=reused)
        base = {
            "source": source, "transcript_raw": tr.text, "transcript": tr.to_dict(),
            "speech": {"first_voiced_s": round(first / RATE, 3), "last_voiced_s": round(last / RATE, 3),
                       "audio_s": round(len(audio) / RATE, 3)},
            **({"recording": recording} if recording else {}),
        }
        if tr.no_speech:
            self._emit("no_speech", message=DIDNT_CATCH, reason=tr.reason)
            raise VoiceInputError(f"{DIDNT_CATCH} ({tr.reason})", "no_speech")
        return await self._clean_and_answer(tr, trace, base, reused)

    def _get_cleanup_client(self):
        if self._cleanup_client is not None:
            return self._cleanup_client
        if self.endpoints is not None and hasattr(self.endpoints, "client"):
            return self.endpoints.client("light")
        return light_client(self.config)

    async def _clean_and_answer(self, tr: Transcript, trace: TurnTrace, base: dict, reused: bool) -> dict:
        near = self.glossary.near_misses(tr.text)
        client = self._get_cleanup_client() if self.cleanup else None
        confident = _answer_as_heard(tr, near)
        policy = "none" if client is None else ("after_answer" if confident else "before_answer")

        async def do_cleanup() -> CleanupResult:
            st = now_ms()
            res = await clean_transcript(tr.text, client, self.glossary, timeout_s=self.cleanup_timeout_s)
            trace.stages.append(Stage("cleanup", st - trace.t0_ms, now_ms() - trace.t0_ms,
                                      {"cleaned": res.cleaned, "reason": res.reason}))
            self._emit("transcript_clean", **{k: v for k, v in res.to_dict().items() if k != "timings"})
            return res

        text = tr.text
        cleaned: CleanupResult | None = None
        cleanup_task: asyncio.Future | None = None
        if client is not None and not confident:
            cleanup_task = asyncio.ensure_future(do_cleanup())
            cleaned = await cleanup_task
            text = cleaned.text
        result = dict(base)
        result["answered_text"] = text
        result["cleanup_policy"] = policy
        if near:
            result["glossary_near_misses"] = [list(p) for p in near]
        answer_task = asyncio.ensure_future(self._answer(text, trace)) if self.answer else None
        try:
            answer = await answer_task if answer_task is not None else {}
            if client is not None and cleaned is None:
                # Cosmetic now (the answer took the raw text): run it once the answer is out, so it
                # never competes with the answer for the same cores.
                cleanup_task = asyncio.ensure_future(do_cleanup())
                cleaned = await cleanup_task
        except BaseException:
            for t in (cleanup_task, answer_task):
                if t is not None and not t.done():
                    t.cancel()
            raise
        result.update(answer)
        result["transcript_clean"] = cleaned.text if cleaned else tr.text
        result["cleanup"] = cleaned.to_dict() if cleaned else {"cleaned": False, "reason": "cleanup off or no light server"}
        timings = dict(result.get("timings") or trace.timings())
        timings.update({
            "asr_ms": round(tr.asr_ms, 1),
            "asr_rtf": round(tr.rtf, 3),
            "cleanup_ms": round(cleaned.cleanup_ms, 1) if cleaned else None,
            "speech_end_to_transcript_ms": round(trace.marks.get("transcript", 0.0), 1),
            "speech_end_to_first_token_ms": (round(trace.marks["first_token"], 1)
                                             if "first_token" in trace.marks else None),
            "speculation_reused": reused,
        })
        if "vad_wait_ms" in trace.values:
            timings["vad_wait_ms"] = trace.values["vad_wait_ms"]
        result["timings"] = timings
        return result

    async def _answer(self, text: str, trace: TurnTrace) -> dict:
        fn = self.answer_fn or default_answer_fn()

        def on_event(ev) -> None:
            self._emit("answer", event=ev, answer_kind=getattr(ev, "kind", None))

        if fn is None:
            return _route_only(text, trace)
        kwargs: dict = {"config": self.config, "trace": trace, "source": "voice", "on_event": on_event}
        params = inspect.signature(fn).parameters
        for name, value in (("assistant", self.assistant), ("endpoints", self.endpoints),
                            ("auto_confirm", self.auto_confirm)):
            if value is not None and name in params:
                kwargs[name] = value
        return await fn(text, **kwargs)

    async def aclose(self) -> None:
        if self._own_transcriber:
            self.transcriber.close()


def DIDNT_CATCH_WITH_REASON(audio: np.ndarray) -> str:  # noqa: N802 (reads like the constant)
    peak = loudest_frame_dbfs(audio)
    why = "only silence" if peak < -50 else "no speech, only noise"
    return f"{DIDNT_CATCH} ({why} was recorded: loudest {peak:.0f} dBFS)"


async def route_only_answer(text: str, *, trace: TurnTrace, **_) -> dict:
    """An `answer_fn` for when the answering pipeline cannot run: the transcript and its route."""
    return _route_only(text, trace)


def _route_only(text: str, trace: TurnTrace) -> dict:
    """No answering pipeline built: at least say where the turn would go (fast path)."""
    route = None
    try:
        from ..routing.fast_path import FastPath

        with trace.stage("route"):
            r = FastPath.from_shipped().classify(text)
        route = {"agent": r.agent, "confidence": round(r.confidence, 3), "decided_by": "fast_path"}
    except Exception as e:  # routing not built either
        log.debug("no routing: %s", e)
    return {"route": route, "answer": None, "tool_calls": [], "model": None, "timings": trace.timings(),
            "notes": ["answering pipeline not available: transcript and route only"]}
