"""How `bestbox ask` and `bestbox voice` show a turn in a terminal: the answer streams to stdout,
everything else (route, tools, notes, what was heard, the closing numbers) goes to stderr, so
`bestbox ask "…" > answer.txt` keeps only the answer. Numbers that were not measured (no server
answered) are left out, and the closing line says what happened instead."""
from __future__ import annotations

import json
import sys
from typing import TextIO


def _ms(v) -> str | None:
    return None if v is None else f"{float(v):.0f} ms"


def no_answer_reason(error: str | None) -> str:
    """The first sentence of the pipeline's error, as a clause: "both model servers are down"."""
    if not error:
        return "no answer"
    first = error.split(". ")[0].rstrip(".")
    return "no answer: " + (first[:1].lower() + first[1:] if first[:2] != first[:2].upper() else first)


class TurnPrinter:
    def __init__(self, *, streaming: bool = True, out: TextIO | None = None, err: TextIO | None = None):
        """streaming False (`--json`): print nothing while the turn runs."""
        self.streaming = streaming
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.answered = False

    def _note(self, text: str) -> None:
        print(text, file=self.err)

    # -- while the turn runs ---------------------------------------------------------------------
    def turn_event(self, ev) -> None:
        """A pipeline TurnEvent."""
        if not self.streaming:
            return
        k, d = ev.kind, ev.data
        if k == "route":
            r = d["decision"]
            # its time is the trace's route stage, in the closing line
            parts = [r.get("agent"), r.get("tier"), r.get("decided_by")]
            self._note("[" + " · ".join(str(p) for p in parts if p is not None) + "]")
        elif k == "tool_call":
            self._note(f"[tool] {d['name']}({json.dumps(d['arguments'])})")
        elif k == "tool_result":
            self._note(f"[tool] {d['name']}: {d.get('error') or d.get('summary') or ''}")
        elif k == "note":
            self._note(f"[note] {d['text']}")
        elif k == "token":
            self.answered = True
            self.out.write(d["text"])
            self.out.flush()

    def voice_event(self, ev) -> None:
        """A speech VoiceEvent."""
        if not self.streaming:
            return
        k, d = ev.kind, ev.data
        if k == "recording_started":
            self._note(f"[listening on {d['device']} · {d['samplerate']:.0f} Hz — speak, then pause]")
        elif k == "speech_started":
            self._note("[speech]")
        elif k == "recording_stopped" and d.get("error"):
            self._note(f"[{d['error']}]")
        elif k == "transcript_raw":
            self._note(f"you said: {d['text']}  [{d['asr_ms']:.0f} ms{'' if d['confident'] else ', unsure'}]")
        elif k == "transcript_clean" and d.get("changed"):
            self._note(f"cleaned:  {d['text']}  [{d['cleanup_ms']:.0f} ms]")

    # -- at the end --------------------------------------------------------------------------------
    def finish(self, result: dict, *, voice: bool = False, answer_asked: bool = True) -> None:
        """The closing lines: the error, if any, and the turn's numbers (or what happened instead)."""
        if self.answered:
            print(file=self.out)
        if result.get("error"):
            self._note(f"error: {result['error']}")
        self._note(self.summary(result, voice=voice, answer_asked=answer_asked))

    @staticmethod
    def summary(result: dict, *, voice: bool = False, answer_asked: bool = True) -> str:
        t = result.get("timings") or {}
        if voice:
            parts = [("asr", _ms(t.get("asr_ms"))), ("cleanup", _ms(t.get("cleanup_ms")))]
            answer = [("speech end → first token", _ms(t.get("speech_end_to_first_token_ms")))]
            if t.get("tool_choice_ahead"):   # agents/ahead.py: chosen in the silence window
                parts.append(("tool choice", "in the silence window" if t["tool_choice_ahead"] == "reused"
                              else t["tool_choice_ahead"]))
        else:
            parts = [("route", _ms(t.get("route_ms")))]
            answer = [("first token", _ms(t.get("ttft_ms"))), ("total", _ms(t.get("total_ms")))]
            if t.get("tokens_per_s") is not None:
                answer.append(("", f"{t['tokens_per_s']} tok/s"))
        shown = [f"{label} {v}".strip() for label, v in parts if v is not None]
        if not answer_asked:
            shown.append("no answer asked")
        elif result.get("needs_input"):
            shown.append(f"no answer: {result['needs_input'].get('tool') or 'the tool'} needs more values")
        elif result.get("answer") or t.get("ttft_ms") is not None:
            shown += [f"{label} {v}".strip() for label, v in answer if v is not None]
            if result.get("model"):
                srv = result.get("server") or {}   # a team server: say which one answered
                where = (f" @ {srv['url']}" if srv.get("where") == "remote"
                         else " · local stand-in" if srv.get("stand_in") else "")
                shown.append(str(result["model"]) + where)
        else:
            shown.append(no_answer_reason(result.get("error")))
        return "[" + " · ".join(shown) + "]"
