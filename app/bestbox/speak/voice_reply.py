"""A voice turn's answer, also spoken: wraps the pipeline's answerer (`speech.handoff.Answerer`), so
speech and the pipeline stay as they are: the answer's TurnEvents go to the usual listener and to a
ReplySpeaker, which marks `first_audio` on the turn's own trace."""
from __future__ import annotations

import asyncio
from pathlib import Path

from ..pipeline.events import TurnEvent
from ..trace import TurnTrace
from .ahead import FirstClauseAhead
from .reply import ReplySpeaker


class SpeakingAnswerer:
    def __init__(self, inner, engine, *, output: bool = True, device=None, volume: float = 1.0,
                 barge_in: bool = False, microphone: str = "", text_shim=None):
        """barge_in: listen on `microphone` while the answer plays (speak/barge_in.py); a request
        spoken over it is left in `pending_audio` for the caller's next turn. text_shim: a factory of
        `speak.shim.TextShim` (bench, random-weight models only): the speaker gets its fixed text,
        paced by the answer's tokens, instead of the answer's own text."""
        self.inner = inner
        self.engine = engine
        self.output, self.device, self.volume = output, device, volume
        self.barge_in, self.microphone = barge_in and output, microphone
        self.reply: ReplySpeaker | None = None
        self.trace: TurnTrace | None = None
        self._listening: asyncio.Task | None = None
        self.pending_audio = None
        self.text_shim = text_shim
        # The first clause of an answer started in the silence window (pipeline/answer_ahead.py).
        self.ahead = FirstClauseAhead(engine, text_shim)
        self.ahead.follow(getattr(getattr(inner, "turns", None), "answers_ahead", None))

    def detach(self) -> None:
        """Stop following answers made ahead (an answerer that is thrown away)."""
        self.ahead.detach()

    def preroute(self, text: str) -> None:
        self.inner.preroute(text)

    def drop_ahead(self) -> None:
        drop = getattr(self.inner, "drop_ahead", None)
        if drop is not None:
            drop()

    async def answer(self, text: str, *, trace: TurnTrace, meta: dict) -> dict:
        self.trace = trace
        monitor = None
        if self.barge_in:
            from .barge_in import BargeInMonitor

            monitor = BargeInMonitor(device=self.microphone)
        self.reply = ReplySpeaker(self.engine, output=self.output, device=self.device, trace=trace,
                                  volume=self.volume, on_block=monitor.on_block if monitor else None,
                                  premade=self.ahead.audio_for)
        if monitor is not None:
            self._listening = asyncio.ensure_future(monitor.run(self.reply))
        listener = self.inner.on_event
        rewrite = self.text_shim() if self.text_shim else None

        def both(ev) -> None:
            for e in _shimmed(ev, rewrite) if rewrite is not None else (ev,):
                self.reply.on_event(e)
            if listener is not None:
                listener(ev)

        self.inner.on_event = both
        try:
            return await self.inner.answer(text, trace=trace, meta=meta)
        finally:
            self.inner.on_event = listener
            self.reply.finish()  # idempotent for a turn that ended without "done"

    async def finish(self, result: dict, wav_path: str | Path | None) -> dict:
        """Wait until the reply is spoken; add `reply_audio`, `timings.first_audio_ms` and
        `timings.first_audio_ahead` (its first clause was made ahead of the turn)."""
        if self.reply is None:
            return result
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.reply.wait)
        await loop.run_in_executor(None, self.reply.close)  # joins the synthesis thread
        self.pending_audio = None
        if self._listening is not None:
            try:
                hit = await self._listening
            except Exception as e:  # noqa: BLE001 - no microphone: the answer was still spoken
                result["barge_in_note"] = f"not listening while speaking: {e}"
                hit = None
            self._listening = None
            if hit is not None:
                self.pending_audio = hit.audio
                result["barge_in"] = {"stop_latency_ms": round(hit.stop_latency_ms, 1),
                                      "request_s": round(len(hit.audio) / 16000, 2), **hit.detail}
        if wav_path is not None:
            written = self.reply.write(wav_path)
            result["reply_audio"] = str(written) if written else None
        result["spoken"] = self.reply.spoken_text
        if self.trace is not None:  # the reply may have started after the turn's timings were taken
            t = self.trace.timings()
            result.setdefault("timings", {}).update({k: t.get(k) for k in ("first_audio_ms", "first_audio_ahead")})
        if self.reply.speaker.output_error:
            result["speak_note"] = self.reply.speaker.output_error
        return result


def _shimmed(ev, rewrite) -> tuple:
    """The events the speaker gets under a text shim: tokens carry the shim's text, and the end its rest."""
    if ev.kind == "token":
        return (TurnEvent("token", {"text": rewrite("token", ev.data.get("text", ""))}),)
    if ev.kind == "done":
        rest = rewrite("done")
        return (TurnEvent("token", {"text": rest}), TurnEvent("done", {**ev.data, "answer": rest}))
    return (ev,)
