"""Is a person talking over BestBox, or is the microphone hearing BestBox's own voice?

The gate knows what the speaker played (the reference, handed over by the player's output callback
with the device's reported latency) and what the microphone heard. Both go on one 16 kHz timeline
from their callbacks' clocks, as 20 ms frame energies. The echo delay is found by correlating the two
energy envelopes (energies, not waveforms: a loaded CPU's underruns and the sound server's resampling
shift the waveform by tens of samples, which defeats sample-level cancellation here, while envelopes
stay aligned within a frame). A microphone frame counts as the user's when it is `margin_db` above
the loudest echo expected around that moment (the reference near the delay, times the echo level
learned while BestBox talks) and above an absolute floor; `min_speech_ms` of such frames within
`window_ms` confirm a barge-in. A cough or a short "yeah" does not stop the answer."""
from __future__ import annotations

import numpy as np

from ..audio.resample import Resampler

RATE = 16000
FRAME = 320  # 20 ms


def _energies(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return np.mean(np.square(x[: n * FRAME].reshape(n, FRAME), dtype=np.float64), axis=1)


class _Track:
    """A growing 16 kHz signal on the timeline, with its 20 ms energies."""

    def __init__(self) -> None:
        self.buf = np.zeros(RATE * 8, np.float32)
        self.start: int | None = None
        self.end = 0

    def put(self, x: np.ndarray) -> None:
        need = self.end + len(x)
        if need > len(self.buf):
            self.buf = np.concatenate([self.buf, np.zeros(max(need - len(self.buf), RATE * 8), np.float32)])
        self.buf[self.end:need] = x
        self.end = need

    def energy(self, f0: int, n: int) -> np.ndarray:
        """Energies of frames f0 … f0+n−1 (zero outside what was recorded)."""
        out = np.zeros(n)
        lo, hi = max(0, f0), min(self.end // FRAME, f0 + n)
        if hi > lo:
            out[lo - f0:hi - f0] = _energies(self.buf[lo * FRAME:hi * FRAME])
        return out


class EchoGate:
    # max_lag_ms: the sound server's buffers put up to 1.4 s between our output callback and the
    # microphone's copy on this loaded machine (loopback sink, measured); 3 s leaves room.
    def __init__(self, t0_ms: float, *, margin_db: float = 8.0, floor_dbfs: float = -42.0,
                 min_speech_ms: int = 120, window_ms: int = 200, max_lag_ms: int = 3000,
                 tolerance_ms: int = 60):
        self.t0_ms = t0_ms
        self.margin = 10 ** (margin_db / 10)
        self.floor = 10 ** (floor_dbfs / 10)
        self.need = max(1, min_speech_ms // 20)
        self.window = max(self.need, window_ms // 20)
        self.max_lag = max_lag_ms // 20  # frames
        self.neg_lag = 20  # the echo may come "early" when a device over-reports its latency
        self.tol = max(1, tolerance_ms // 20)
        self.ref, self.mic = _Track(), _Track()
        self._ref_rs: Resampler | None = None
        self.lag: int | None = None  # frames: mic frame f hears reference frame f − lag
        self.lag_corr = 0.0
        self.leak = 1.0  # echo energy / reference energy, learned
        self._leaks: list[float] = []
        self._votes: list[bool] = []
        self._next_align = 0
        self.frame = 0  # next mic frame to judge
        self.triggered_at: int | None = None  # timeline sample of the confirmed onset
        self.user_frames = 0

    def add_reference(self, block: np.ndarray, sample_rate: int, t_ms: float) -> None:
        """A block the speaker plays at perf-counter time `t_ms`."""
        if self._ref_rs is None:
            self._ref_rs = Resampler(sample_rate, RATE)
            self.ref.end = max(0, int((t_ms - self.t0_ms) * RATE / 1000))
        self.ref.put(self._ref_rs.process(np.asarray(block, np.float32)))

    def feed(self, mic16k: np.ndarray, captured_ms: float) -> bool:
        """A microphone block (16 kHz; its last sample captured at `captured_ms`). True once a
        barge-in is confirmed."""
        if self.mic.start is None:
            start = max(0, int((captured_ms - self.t0_ms) * RATE / 1000) - len(mic16k))
            start -= start % FRAME
            self.mic.start = self.mic.end = start
            self.frame = start // FRAME
        self.mic.put(np.asarray(mic16k, np.float32))
        if self.mic.end >= self._next_align:
            self._align()
        last = self.mic.end // FRAME
        if self.frame < last and self.triggered_at is None:
            self._judge(self.frame, last - self.frame)
        self.frame = last
        return self.triggered_at is not None

    def _align(self) -> None:
        """Echo delay: the lag that best correlates the log-energy envelopes of the last 3 s."""
        self._next_align = self.mic.end + RATE
        n = 150
        f1 = self.mic.end // FRAME
        f0 = max(self.mic.start // FRAME, f1 - n)
        if f1 - f0 < 40:
            return
        m = np.log10(self.mic.energy(f0, f1 - f0) + 1e-7)
        r = np.log10(self.ref.energy(f0 - self.max_lag, f1 - f0 + self.max_lag + self.neg_lag) + 1e-7)
        if m.std() < 0.2 or r.std() < 0.2:
            return
        best, best_k = -1.0, 0
        for k in range(len(r) - len(m) + 1):
            seg = r[k:k + len(m)]
            c = float(np.corrcoef(seg, m)[0, 1]) if seg.std() > 0 else -1.0
            if c > best:
                best, best_k = c, k
        if best > 0.5:
            self.lag, self.lag_corr = self.max_lag - best_k, best

    def _judge(self, f0: int, n: int) -> None:
        e_mic = self.mic.energy(f0, n)
        if self.lag is not None:
            lo, width, leak = f0 - self.lag - self.tol, 2 * self.tol + 1, self.leak
        else:  # delay unknown yet: expect the loudest reference anywhere in the possible range
            lo, width, leak = f0 - self.max_lag, self.max_lag + self.neg_lag + 1, max(self.leak, 1.0)
        ref = self.ref.energy(lo, n + width)
        for i in range(n):
            near = float(ref[i:i + width].max())
            user = e_mic[i] > self.floor and e_mic[i] > self.margin * leak * near
            ratio = e_mic[i] / near if near > 1e-5 else 0.0
            # Learn the echo level only from frames well under the trigger line: a user talking below
            # it must not raise the line (that delayed a real barge-in by a second).
            if near > 1e-5 and self.lag is not None and ratio < 0.5 * self.margin * leak:
                self._leaks.append(ratio)
                if len(self._leaks) >= 25:
                    # The 90th percentile: BestBox's own echo stays below the margin.
                    self.leak = float(np.clip(np.percentile(self._leaks[-500:], 90), 1e-4, 2.0))
            self._votes.append(user)
            self.user_frames += int(user)
            recent = self._votes[-self.window:]
            if user and sum(recent) >= self.need:
                first = f0 + i - (len(recent) - 1 - recent.index(True))
                self.triggered_at = first * FRAME
                return

    def audio(self, since: int | None = None) -> np.ndarray:
        """The microphone from timeline sample `since` (default: all)."""
        start = self.mic.start or 0
        lo = start if since is None else max(start, since)
        return self.mic.buf[lo:self.mic.end].copy()

    def timeline_ms(self, sample: int) -> float:
        return self.t0_ms + sample * 1000.0 / RATE
