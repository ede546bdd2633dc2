"""The first clause of an answer made ahead (`pipeline.answer_ahead`), synthesized before the turn.

While the turn is still speculative, the answer of a question that needs no tool already streams
(kept, not shown). Its tokens come here too: the first clause (cut exactly as the turn's
`SentenceAggregator` will cut it) is synthesized on a thread of its own. Nothing is played: the
turn's `Speaker` asks `audio_for(text)` for its first sentence and gets this audio only when the
text is the same, i.e. when the turn took that answer. An answer that is dropped (speech resumed,
another transcript) drops its clause at once.

`shim`: a factory of token-text rewriters for random-weight models (`TextShim`), applied to these
tokens exactly as to the turn's.

One of these per speaking front end, for all its turns: the CLI's and the bench's `SpeakingAnswerer`
and the window's `ui.speak_controller.SpeakController` each `follow` the pipeline's `AnswersAhead`
and hand `audio_for` to their turn's `Speaker` (`premade=`)."""
from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Callable

from .sentences import SentenceAggregator
from .speech_text import for_speech

if TYPE_CHECKING:  # the window imports this module at start-up: numpy waits for the first spoken answer
    import numpy as np

log = logging.getLogger(__name__)


class Premade:
    """One answer's first clause: its speech text and the audio being made for it."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.future: concurrent.futures.Future | None = None
        self.dropped = False
        self.used = False


class FirstClauseAhead:
    def __init__(self, engine, shim: Callable[[], Callable[[str, str], str]] | None = None, *,
                 enabled: Callable[[], bool] | None = None) -> None:
        """enabled: asked when an answer starts ahead; False (muted, replies not spoken) makes nothing."""
        self.engine = engine
        self.shim = shim
        self.enabled = enabled
        self._lock = threading.Lock()
        self.current: Premade | None = None
        self.made: deque[Premade] = deque(maxlen=16)  # the latest (tests, bench); a window runs for days
        self._answers = None

    def follow(self, answers) -> None:
        """Hear of every answer that `answers` (a `pipeline.answer_ahead.AnswersAhead`, or None) starts
        ahead; an earlier one is no longer followed."""
        self.detach()
        if answers is not None:
            answers.watchers.append(self.watch)
            self._answers = answers

    @property
    def following(self):
        """The `AnswersAhead` followed now, or None."""
        return self._answers

    def detach(self) -> None:
        """Stop following (an answerer thrown away, an assistant rebuilt); what is pending is dropped."""
        answers, self._answers = self._answers, None
        if answers is not None and self.watch in answers.watchers:
            answers.watchers.remove(self.watch)
        self.reset()

    def watch(self, ahead) -> None:
        """A watcher for `pipeline.answer_ahead.AnswersAhead.watchers`: follow this answer's tokens."""
        if self.enabled is not None and not self.enabled():
            self.reset()   # an older clause is stale now too
            return
        pm = Premade()
        with self._lock:
            if self.current is not None:
                self.current.dropped = True
            self.current = pm
        agg = SentenceAggregator()
        rewrite = self.shim() if self.shim else None

        def on(kind: str, text: str) -> None:
            if kind == "drop":
                self._drop(pm)
                return
            if rewrite is not None:
                text = rewrite(kind, text)
            if pm.text is not None or pm.dropped:
                return
            for s in agg.feed(text) + (agg.flush() if kind == "end" else []):
                speech = for_speech(s)
                if speech:
                    self._start(pm, speech)
                    return

        ahead.subscribe(on)

    def _start(self, pm: Premade, speech: str) -> None:
        pm.text = speech
        pm.future = concurrent.futures.Future()

        def work() -> None:
            try:
                pm.future.set_result(self.engine.synthesize(speech))
            except Exception as e:  # noqa: BLE001 - the turn synthesizes it again
                pm.future.set_exception(e)

        threading.Thread(target=work, name="bestbox-tts-ahead", daemon=True).start()
        self.made.append(pm)

    def _drop(self, pm: Premade) -> None:
        pm.dropped = True
        with self._lock:
            if self.current is pm:
                self.current = None

    def audio_for(self, text: str, timeout_s: float = 30.0) -> np.ndarray | None:
        """The clause's audio when `text` is the clause made ahead (waited for when still being
        synthesized), else None. Used once."""
        with self._lock:
            pm = self.current
            if pm is None or pm.dropped or pm.text != text or pm.future is None:
                return None
            self.current = None
        try:
            audio = pm.future.result(timeout_s)
        except Exception as e:  # noqa: BLE001
            log.debug("clause made ahead failed: %s", e)
            return None
        pm.used = True
        return audio

    def reset(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.dropped = True
            self.current = None

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Block until no clause is being synthesized (at quit: the engine must be left first)."""
        for pm in list(self.made):
            if pm.future is not None:
                concurrent.futures.wait([pm.future], timeout=timeout_s)
