"""One voice turn: record (or read a file) → end of speech → transcript → cleanup ∥ answer.

The session hears and hands the final text to the pipeline through `speech.handoff.Answerer`;
its own events are listed in `speech.events`, the speculation in the silence window is
`speech.speculation`, and which text is answered when is `speech.cleanup_policy`.

The turn's clock (`TurnTrace.t0_ms`) is the capture time of the last voiced sample, so
`timings.speech_end_to_first_token_ms` is what the user waits after they stop talking. For a file
read at once, the clock starts when the file's speech end is known (decoded and scanned).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any, AsyncIterator, Callable

import numpy as np

from ..audio.devices import MicrophoneUnavailable
from ..audio.recorder import Recorder
from ..audio.vad import EndpointDetector, find_speech, silero_speech_ms
from ..audio.wavfile import AudioFileError, read_audio
from ..config import Config
from ..trace import TurnTrace, now_ms
from .cleanup import light_client
from .cleanup_policy import answer_as_heard, clean_and_answer, mender_for
from .events import DIDNT_CATCH, VOICE_EVENT_KINDS, VoiceEvent, VoiceInputError, didnt_catch
from .glossary import Glossary
from .handoff import Answerer
from .speculation import RATE, TAIL_S, Speculation, Speculator, speculation_due
from .transcriber import Transcriber, Transcript, TranscriberUnavailable, loudest_frame_dbfs
from .turn_end import TurnEndPolicy, speculative_transcript

__all__ = ["DIDNT_CATCH", "TAIL_S", "VOICE_EVENT_KINDS", "VoiceEvent", "VoiceInputError", "VoiceSession",
           "has_speech"]

log = logging.getLogger(__name__)


async def has_speech(audio: np.ndarray, *, use_silero: bool = True) -> bool:
    """Anything worth sending to Whisper: louder than -50 dBFS and, with Silero, ≥ 200 ms of speech."""
    if loudest_frame_dbfs(audio) < -50:
        return False
    if not use_silero:
        return True
    ms = await asyncio.get_running_loop().run_in_executor(None, silero_speech_ms, audio)
    return ms is None or ms >= 200


class VoiceSession:
    """Voice turns for one window (or one CLI call). Share one preloaded `Transcriber`.

    GUI use: `session = VoiceSession(config, transcriber=t, endpoints=mgr, answerer=a, on_event=cb)`;
    on talk: `task = asyncio.ensure_future(session.listen(mode="auto" | "hold"))`; hold-to-talk
    release / toggle off: `session.stop()`; Esc: `session.cancel()`; mute: `session.muted = True`.
    Without an `answerer` a turn ends with the transcript (and its cleanup).
    """

    def __init__(self, config: Config, *, transcriber: Transcriber | None = None, glossary: Glossary | None = None,
                 sounddevice: Any = None, on_event: Callable[[VoiceEvent], None] | None = None,
                 answerer: Answerer | None = None, endpoints: Any = None, cleanup: bool = True,
                 cleanup_client: Any = None, cleanup_timeout_s: float = 2.0, speculate: bool = True,
                 use_silero: bool = True):
        """endpoints: where the light server's client comes from for the cleanup (`client("light")`)."""
        self.config = config
        self.transcriber = transcriber or Transcriber(config)
        self._own_transcriber = transcriber is None
        self.glossary = glossary or Glossary.from_config(config)
        self.sounddevice = sounddevice
        self.on_event = on_event
        self.answerer = answerer
        self.endpoints = endpoints
        self.cleanup = cleanup
        self._cleanup_client = cleanup_client
        self.cleanup_timeout_s = cleanup_timeout_s
        self.speculate = speculate
        self.use_silero = use_silero
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
        """A recorder is open (or opening) for the running turn."""
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

    async def answer_transcript(self, tr: Transcript, trace: TurnTrace | None = None) -> dict:
        """The policy step of a turn for a transcript made elsewhere (`bestbox bench`): cleanup
        and the hand-off to the pipeline, as after a recording; `trace` t0 is the end of speech."""
        trace = trace or TurnTrace()
        trace.mark("transcript")
        return await self._respond(tr, trace, {})

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
        try:
            af = await asyncio.get_running_loop().run_in_executor(None, read_audio, path)
        except AudioFileError as e:
            raise VoiceInputError(str(e), "file") from e
        if realtime:
            from ..audio.filesource import FileSoundDevice

            fake = FileSoundDevice(af.audio, RATE, name=f"file:{path}", speed=1.0,
                                   tail_silence_s=self._turn_end_policy().bound_ms / 1000 + 1.0)
            saved, self.sounddevice = self.sounddevice, fake
            try:
                return await self._listen(mode="auto", device="", source="file-realtime")
            finally:
                self.sounddevice = saved
        out = await self._from_audio(af.audio, source="file")
        out.setdefault("input", {}).update(path=str(path), source_rate=af.source_rate, channels=af.channels)
        return out

    # -- recording -------------------------------------------------------------------------------
    async def _open_recorder(self, mode: str, device: str | None) -> Recorder:
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
        return rec

    async def _record(self, rec: Recorder, det: EndpointDetector, spec: Speculator) -> dict:
        """Feed the detector until the recording ends; returns how it ended (wall and audio time)."""
        closed: dict = {}
        policy = self._turn_end_policy()
        async for block in rec.blocks():
            rec.muted = self.muted
            tr = speculative_transcript(spec.current, det.last_voiced_sample) if policy.mode == "smart" else None
            heard = tr.text if tr is not None else None
            wait = policy.wait_ms(heard, tr) if heard is not None or policy.mode == "fixed" else policy.bound_ms
            det.set_silence_ms(wait)
            for ev in det.feed(block.samples):
                if ev.kind == "ended":
                    closed = {"at_ms": now_ms(), "turn_end": {"mode": policy.mode, "wait_ms": wait, "heard": heard},
                              "silence_s": round((det.samples_seen - (det.last_voiced_sample or 0)) / RATE, 3)}
                    rec.stop("vad_end")
                else:
                    self._emit(ev.kind, at_s=round(ev.at_s, 3))
                    if ev.kind == "speech_resumed":
                        self._drop_ahead()
            if self.speculate and speculation_due(det):
                spec.update(det.last_voiced_sample, rec.samples_recorded, rec.audio)
            if self._stop_requested and not rec.stop_reason:
                rec.stop(self._stop_requested)
        return closed

    def _turn_end_policy(self) -> TurnEndPolicy:
        """Smart needs the speculative transcript; without speculation the window is fixed."""
        policy = TurnEndPolicy.from_config(self.config.speech)
        return policy if self.speculate else replace(policy, mode="fixed")

    async def _listen(self, *, mode: str, device: str | None, source: str = "microphone") -> dict:
        rec = await self._open_recorder(mode, device)
        det = EndpointDetector(silence_ms=self._turn_end_policy().bound_ms, mode="hold" if mode == "hold" else "auto")
        spec = Speculator(lambda a: self._transcribe(a), self._preroute, lambda: det.last_voiced_sample)
        closed = await self._record(rec, det, spec)
        if rec.end_reason == "cancelled" or self._stop_requested == "cancelled":
            spec.cancel()
            self._emit("recording_stopped", reason="cancelled", audio_s=0.0, dropped_blocks=rec.dropped_blocks)
            raise VoiceInputError("Cancelled.", "cancelled")
        audio = rec.audio()
        assert rec.device is not None
        audio_s = round(len(audio) / RATE, 3)
        self._emit("recording_stopped", reason=rec.end_reason, audio_s=audio_s, dropped_blocks=rec.dropped_blocks,
                   error=rec.error)
        recording = {"reason": rec.end_reason, "device": rec.device.label(), "samplerate": rec.samplerate,
                     "dropped_blocks": rec.dropped_blocks, "audio_s": audio_s,
                     **({"device_error": rec.error} if rec.error else {}),
                     **({"silence_at_end_s": closed["silence_s"], "turn_end": closed["turn_end"]} if closed else {})}
        if not det.speech_detected:
            spec.cancel()
            return await self._from_audio(audio, source=source, recording=recording)
        last = det.last_voiced_sample or len(audio)
        trace = TurnTrace(t0_ms=rec.sample_time_ms(last))
        if closed:
            trace.mark("vad_end", at_ms=closed["at_ms"])
        return await self._process(audio, first=det.speech_start_sample or 0, last=last, trace=trace,
                                   source=source, speculation=spec.take(last), recording=recording)

    def _preroute(self, tr: Transcript) -> None:
        """Route a speculative transcript in the silence window, when the answer would take that
        text as it is (see `speech.cleanup_policy`)."""
        if self.answerer is None:
            return
        text = mender_for(self.glossary).mend(tr.text)[0]  # the text the answer will get
        if self.cleanup and not answer_as_heard(tr, self.glossary.near_misses(text)):
            return  # cleanup goes first: the answer will get other text
        self.answerer.preroute(text.strip())

    def _drop_ahead(self) -> None:
        """Speech resumed: what the pipeline started on the last speculative transcript is stale."""
        drop = getattr(self.answerer, "drop_ahead", None)
        if drop is not None:
            try:
                drop()
            except Exception as e:  # noqa: BLE001 - an optimisation; the turn still checks the text
                log.debug("drop_ahead failed: %s", e)

    # -- after recording -------------------------------------------------------------------------
    async def _from_audio(self, audio: np.ndarray, *, source: str, recording: dict | None = None) -> dict:
        first, last = find_speech(audio)
        trace = TurnTrace()  # the speech end is known now
        if last is None:
            if not await has_speech(audio, use_silero=self.use_silero):
                raise VoiceInputError(didnt_catch(loudest_frame_dbfs(audio)), "no_speech")
            first, last = 0, len(audio)
        return await self._process(audio, first=first or 0, last=last, trace=trace, source=source,
                                   speculation=None, recording=recording)

    async def _transcribe(self, audio: np.ndarray) -> tuple[Transcript, float, float]:
        hint = self.glossary.whisper_prompt(self.glossary.for_whisper(self.context_hint))
        start = now_ms()
        tr = await self.transcriber.transcribe(audio, initial_prompt=hint)
        return tr, start, now_ms()

    async def _final_transcript(self, seg: np.ndarray, speculation: Speculation | None) -> tuple[Transcript, float, bool]:
        """The speculation's transcript when it covers `seg`, else a fresh one; (transcript, end, reused)."""
        if speculation is not None and speculation.end_sample <= len(seg):
            try:
                tr, _, t_end = await speculation.task
                return tr, t_end, True
            except (asyncio.CancelledError, TranscriberUnavailable):
                pass
        self._emit("transcribing", audio_s=round(len(seg) / RATE, 3), speculative=False)
        try:
            tr, _, t_end = await self._transcribe(seg)
        except TranscriberUnavailable as e:
            raise VoiceInputError(str(e), "model") from e
        return tr, t_end, False

    async def _process(self, audio: np.ndarray, *, first: int, last: int, trace: TurnTrace, source: str,
                       speculation: Speculation | None, recording: dict | None) -> dict:
        seg = audio[:min(len(audio), last + int(TAIL_S * RATE))]
        if self.use_silero and not await has_speech(seg):
            self._emit("no_speech", message=DIDNT_CATCH, reason="no speech found (Silero VAD)")
            raise VoiceInputError(DIDNT_CATCH + " (only noise or silence was recorded)", "no_speech")
        tr, t_end, reused = await self._final_transcript(seg, speculation)
        # The stage spans Whisper's own work (measured in its worker), ending when the turn had it.
        trace.add_stage("asr", t_end - tr.asr_ms, t_end, audio_s=tr.audio_s, speculative=reused)
        trace.mark("transcript")
        trace.values.update(asr_rtf=round(tr.rtf, 3), speculation_reused=reused)
        self._emit("transcript_raw", text=tr.text, confident=tr.confident, asr_ms=tr.asr_ms,
                   avg_logprob=tr.avg_logprob, no_speech_prob=tr.no_speech_prob, reused_speculation=reused)
        if tr.no_speech:
            self._emit("no_speech", message=DIDNT_CATCH, reason=tr.reason)
            raise VoiceInputError(f"{DIDNT_CATCH} ({tr.reason})", "no_speech")
        base = {
            "source": source, "transcript_raw": tr.text, "transcript": tr.to_dict(),
            "speech": {"first_voiced_s": round(first / RATE, 3), "last_voiced_s": round(last / RATE, 3),
                       "audio_s": round(len(audio) / RATE, 3)},
            **({"recording": recording} if recording else {}),
        }
        return await self._respond(tr, trace, base)

    def _light_client(self):
        if self._cleanup_client is not None:
            return self._cleanup_client
        if self.endpoints is not None:
            return self.endpoints.client("light")
        return light_client(self.config)

    async def _respond(self, tr: Transcript, trace: TurnTrace, base: dict) -> dict:
        return await clean_and_answer(tr, trace, base, glossary=self.glossary,
                                      client=self._light_client() if self.cleanup else None,
                                      answerer=self.answerer, timeout_s=self.cleanup_timeout_s, emit=self._emit)

    async def aclose(self) -> None:
        if self._own_transcriber:
            self.transcriber.close()
