"""Wake word detection: microWakeWord models run by `pymicro-wakeword` (Apache-2.0; its four bundled
models are Apache-2.0 too, see THIRD-PARTY-NOTICES.md). Nothing is downloaded at run time.

`WakeDetector.feed(samples)` takes 16 kHz mono float32 audio in any block size and returns the
detections in it. One detection per utterance of the wake word: after a hit the model's streaming
state is reset and `refractory_s` of audio is ignored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where audio is handled: the window imports phrase() at start
    import numpy as np

RATE = 16000
# config value → the phrase a person says (for the UI and the bench's spoken clips)
MODELS = {"okay_nabu": "Okay Nabu", "hey_jarvis": "Hey Jarvis", "hey_mycroft": "Hey Mycroft", "alexa": "Alexa"}


class WakeWordUnavailable(RuntimeError):
    pass


@dataclass
class Detection:
    at_sample: int  # the sample (16 kHz, counted from the detector's start) where it fired
    probability: float


def phrase(model: str) -> str:
    return MODELS.get(model, model.replace("_", " ").title())


class WakeDetector:
    def __init__(self, model: str, *, cutoff: float = 0.0, refractory_s: float = 2.0):
        """cutoff: the probability that counts as a detection (0: the model's own, 0.85-0.97)."""
        if model not in MODELS:
            raise WakeWordUnavailable(f"unknown wake word {model!r} (choose one of {', '.join(MODELS)})")
        try:
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model
        except ImportError as e:  # the optional extra is not installed
            raise WakeWordUnavailable("the wake word needs pymicro-wakeword (pip install 'bestbox[wake]')") from e
        self.model_name = model
        self.phrase = phrase(model)
        self._features_cls = MicroWakeWordFeatures
        self._mww = MicroWakeWord.from_builtin(Model(model))
        self.cutoff = cutoff or float(self._mww.probability_cutoff)
        self._features = MicroWakeWordFeatures()
        self._refractory = int(refractory_s * RATE)
        self._quiet_until = 0
        self.samples_seen = 0
        self.max_probability = 0.0

    def reset(self) -> None:
        """Forget the streaming state (after a detection, or when listening resumes after a pause)."""
        self._mww.reset()
        self._features = self._features_cls()

    def feed(self, samples: np.ndarray) -> list[Detection]:
        import numpy as np

        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
        hits: list[Detection] = []
        start = self.samples_seen
        self.samples_seen += len(pcm)
        if self.samples_seen <= self._quiet_until:
            return hits
        for feats in self._features.process_streaming(pcm.tobytes()):
            prob = self._mww.process_streaming_prob(feats)
            if prob is None:
                continue
            self.max_probability = max(self.max_probability, prob)
            if prob > self.cutoff:
                hits.append(Detection(start + len(pcm), float(prob)))
                self._quiet_until = self.samples_seen + self._refractory
                self.reset()
                break  # the rest of this block belongs to the request, not to another wake word
        return hits

    def close(self) -> None:
        self._mww.close()


def detections_in(model: str, audio: np.ndarray, *, block: int = 480, cutoff: float = 0.0) -> list[Detection]:
    """Every detection in a recording (16 kHz float32), fed in live-sized blocks (30 ms)."""
    det = WakeDetector(model, cutoff=cutoff)
    out: list[Detection] = []
    try:
        for i in range(0, len(audio), block):
            out += det.feed(audio[i:i + block])
    finally:
        det.close()
    return out
