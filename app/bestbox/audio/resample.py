"""Streaming windowed-sinc resampling to 16 kHz mono with numpy only (no scipy).

Any rate ratio (44.1 kHz, 48 kHz, 8 kHz, ...). The low-pass cut-off sits just below the lower of
the two Nyquist frequencies, so downsampling does not alias. State carries across blocks, so a
stream resampled block by block equals the whole signal resampled at once.
"""
from __future__ import annotations

import numpy as np

TARGET_RATE = 16000


def to_mono(x: np.ndarray) -> np.ndarray:
    """(frames,) or (frames, channels) of any numeric dtype → float32 mono in [-1, 1]."""
    a = np.asarray(x)
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        scale = float(max(abs(info.min), info.max))
        a = a.astype(np.float32)
        if info.min == 0:  # unsigned (8-bit WAV): centre on zero
            a = a - (scale + 1) / 2
            scale = (scale + 1) / 2
        a = a / scale
    else:
        a = a.astype(np.float32, copy=False)
    if a.ndim == 2:
        a = a.mean(axis=1) if a.shape[1] > 1 else a[:, 0]
    return np.ascontiguousarray(a, dtype=np.float32)


class Resampler:
    def __init__(self, in_rate: float, out_rate: int = TARGET_RATE, half_taps: int = 16):
        if in_rate <= 0:
            raise ValueError(f"invalid sample rate {in_rate}")
        self.in_rate = float(in_rate)
        self.out_rate = int(out_rate)
        self.passthrough = abs(self.in_rate - self.out_rate) < 1e-6
        self.h = half_taps
        self.step = self.in_rate / self.out_rate  # input samples per output sample
        self.cutoff = min(1.0, self.out_rate / self.in_rate) * 0.92
        self._buf = np.zeros(half_taps, dtype=np.float32)
        self._t = float(half_taps)  # position (in _buf) of the next output sample
        self._k = np.arange(-half_taps + 1, half_taps + 1)

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if self.passthrough:
            return x.copy()
        buf = np.concatenate([self._buf, x]) if x.size else self._buf
        last_t = len(buf) - 1 - self.h  # the last position whose window is complete
        if last_t < self._t:
            self._buf = buf
            return np.zeros(0, dtype=np.float32)
        n_out = int((last_t - self._t) // self.step) + 1
        out = np.empty(n_out, dtype=np.float32)
        chunk = 8192  # keeps the (n, taps) weight matrix small for whole files
        for s in range(0, n_out, chunk):
            ts = self._t + np.arange(s, min(n_out, s + chunk)) * self.step
            base = np.floor(ts).astype(np.int64)
            d = (ts - base)[:, None] - self._k[None, :]  # distance from each tap
            w = np.sinc(self.cutoff * d) * (0.42 + 0.5 * np.cos(np.pi * d / self.h)
                                           + 0.08 * np.cos(2 * np.pi * d / self.h))
            w /= w.sum(axis=1, keepdims=True)  # exact unity gain at DC
            out[s:s + len(ts)] = (buf[base[:, None] + self._k[None, :]] * w).sum(axis=1)
        t_next = self._t + n_out * self.step
        drop = max(0, int(np.floor(t_next)) - self.h)
        self._buf = buf[drop:]
        self._t = t_next - drop
        return out

    def flush(self) -> np.ndarray:
        """Emit the tail held back for the filter window (pads with zeros)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        return self.process(np.zeros(self.h + 1, dtype=np.float32))


def resample(x: np.ndarray, in_rate: float, out_rate: int = TARGET_RATE) -> np.ndarray:
    """Whole-signal convenience: mono float32 at out_rate, length ≈ len(x) * out_rate / in_rate."""
    mono = to_mono(x)
    if abs(in_rate - out_rate) < 1e-6:
        return mono
    r = Resampler(in_rate, out_rate)
    y = np.concatenate([r.process(mono), r.flush()])
    n = int(round(len(mono) * out_rate / in_rate))
    return y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))


def dbfs(x: np.ndarray) -> float:
    """RMS level in dBFS (full-scale sine ≈ -3 dBFS; digital silence → -100)."""
    if x.size == 0:
        return -100.0
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return max(-100.0, 20.0 * np.log10(rms + 1e-12))
