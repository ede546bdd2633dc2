"""Server logs: a bounded ring buffer fed by tailing the server's log file, the file's rotation and
size, load-progress parsing, and turning a log tail into a readable reason.

The server writes straight into its log file (never into a pipe), so it can never block on a slow
reader and keeps logging when a detached CLI start has exited; we tail the file.
"""
from __future__ import annotations

import collections
import logging
import os
import re
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

MAX_LOG_BYTES = 20 * 1024 * 1024  # the file is truncated (lines stay in the ring) past this size

# Ordered milestones of a llama-server start and the progress they mean.
_MILESTONES = [
    (re.compile(r"loading model"), 0.05),
    (re.compile(r"llama threadpool init"), 0.80),
    (re.compile(r"llama_model_loader: loaded meta data"), 0.10),
    (re.compile(r"load_tensors:"), 0.20),
    (re.compile(r"llama_context:|llama_kv_cache"), 0.85),
    (re.compile(r"warming up"), 0.90),
    (re.compile(r"initializing slots|init: initializing|n_slots ="), 0.95),
    (re.compile(r"\bmodel loaded\b|server is listening|listening on http|all slots are idle"), 1.0),
]
_DOTS = re.compile(r"^\.+$")


class LoadProgress:
    """Folds log lines into a monotonic 0..1 estimate. llama.cpp prints one '.' per loaded percent
    of tensor data without a newline, so partial lines count too."""

    def __init__(self) -> None:
        self.value: float | None = None
        self._in_tensors = False

    def reset(self) -> None:
        self.value = None
        self._in_tensors = False

    def _raise(self, v: float) -> None:
        self.value = max(self.value or 0.0, min(1.0, v))

    def estimate_from_time(self, elapsed: float, previous: float | None) -> None:
        """Where the log says little, the previous load time of the same model gives an estimate."""
        if previous and previous > 0:
            self._raise(min(0.95, 0.95 * elapsed / previous))

    def feed(self, line: str) -> None:
        s = line.strip()
        if self._in_tensors and s and _DOTS.match(s):
            self._raise(0.20 + 0.60 * min(len(s), 100) / 100)
            return
        for pat, v in _MILESTONES:
            if pat.search(s):
                if v == 0.20:
                    self._in_tensors = True
                self._raise(v)


class LogTail:
    """Ring buffer of the last `max_lines` lines of one server's log file, read incrementally."""

    def __init__(self, path: Path, max_lines: int = 2000) -> None:
        self.path = path
        self.lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self.partial = ""
        self._offset = 0
        self._ino: int | None = None
        self._subs: list[Callable[[list[str]], None]] = []

    def subscribe(self, cb: Callable[[list[str]], None]) -> Callable[[], None]:
        self._subs.append(cb)

        def unsubscribe() -> None:
            if cb in self._subs:
                self._subs.remove(cb)
        return unsubscribe

    def start_at_end(self, backlog_bytes: int = 64 * 1024) -> None:
        """Follow an existing file (an adopted server): load its recent lines, then tail."""
        try:
            st = self.path.stat()
        except OSError:
            self._offset, self._ino = 0, None
            return
        self._ino = st.st_ino
        self._offset = max(0, st.st_size - backlog_bytes)
        self.read_new(skip_first_partial=self._offset > 0, notify=False)

    def restart(self) -> None:
        """A fresh file is about to be written (new spawn)."""
        self._offset, self._ino, self.partial = 0, None, ""

    def append(self, line: str) -> None:
        """A line of our own (supervisor remarks) into the same view."""
        self.lines.append(line)
        self._notify([line])

    def read_new(self, skip_first_partial: bool = False, notify: bool = True) -> list[str]:
        try:
            st = self.path.stat()
        except OSError:
            return []
        if self._ino is not None and st.st_ino != self._ino or st.st_size < self._offset:
            self._offset, self.partial = 0, ""  # replaced or truncated
        self._ino = st.st_ino
        if st.st_size == self._offset:
            return []
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read(min(st.st_size - self._offset, 4 * 1024 * 1024))
        except OSError:
            return []
        self._offset += len(data)
        text = self.partial + data.decode("utf-8", "replace")
        parts = text.split("\n")
        self.partial = parts.pop()
        if skip_first_partial and parts:
            parts.pop(0)
        new = [p.rstrip("\r") for p in parts]
        self.lines.extend(new)
        if notify and new:
            self._notify(new)
        if st.st_size > MAX_LOG_BYTES:
            try:
                os.truncate(self.path, 0)
                self._offset = 0
            except OSError:
                pass
        return new

    def _notify(self, new: list[str]) -> None:
        for cb in list(self._subs):
            try:
                cb(new)
            except Exception:  # a subscriber never breaks the tail
                log.exception("log subscriber failed")

    def tail(self, n: int = 40) -> list[str]:
        out = list(self.lines)[-n:]
        if self.partial.strip():
            out.append(self.partial)
        return out


def rotate(path: Path) -> None:
    """Keep the previous run's log as NAME.log.1 (one generation) before a new spawn."""
    try:
        if path.exists() and path.stat().st_size:
            os.replace(path, path.with_suffix(".log.1"))
    except OSError:
        pass


def file_size(path: Path) -> int:
    """Bytes in the log file (0 when it is missing): a growing log means a start progresses."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


_REASONS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"couldn't bind HTTP server socket|address already in use", re.I),
     "port {port} is already in use: llama-server could not bind it. Stop what holds it or choose another port."),
    (re.compile(r"failed to open GGUF file|gguf_init_from_file.*failed|invalid magic|not a GGUF|"
                r"error loading model|failed to load model", re.I),
     "llama-server could not load the model {model}: {line}"),
    (re.compile(r"out of memory|failed to allocate|unable to allocate|cannot allocate|bad_alloc|"
                r"alloc.*failed|ErrorOutOfDeviceMemory", re.I),
     "not enough memory for {model}: {line}. Use a smaller model or lower ctx_size / n_gpu_layers."),
    (re.compile(r"invalid argument|unknown argument|error: ", re.I),
     "llama-server rejected its arguments: {line}"),
]


def _clean(line: str) -> str:
    line = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
    return line[:300]


def readable_reason(tail: list[str], *, port: int, model: str, returncode: int | None) -> str:
    """The most telling line of a failed start, in words a user can act on."""
    lines = [_clean(ln) for ln in tail if ln.strip()]
    for pat, template in _REASONS:
        hits = [ln for ln in lines if pat.search(ln)]
        if hits:
            # The first hit is usually the root cause (later ones repeat it more vaguely).
            return template.format(port=port, model=model, line=hits[0])
    how = exit_description(returncode)
    last = next((ln for ln in reversed(lines) if not _DOTS.match(ln)), "")
    return f"llama-server {how}" + (f"; last log line: {last}" if last else " without writing a log")


def exit_report(tail: list[str], *, port: int, model: str, returncode: int | None,
                keep: int = 8) -> tuple[str, str, tuple[str, ...]]:
    """After an unexpected exit: (the readable reason, how it ended, the last `keep` server log lines).
    An exit code is known only for our own child; an adopted server's end is seen, not its code."""
    reason = readable_reason(tail, port=port, model=model, returncode=returncode)
    how = (exit_description(returncode) if returncode is not None
           else "exited (it was not our child, so its exit code is unknown)")
    lines = tuple(_clean(ln) for ln in tail if ln.strip() and not ln.startswith("[bestbox]"))[-keep:]
    return reason, how, lines


def exit_description(returncode: int | None) -> str:
    import signal

    if returncode is None:
        return "stopped"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        extra = " (possibly the out-of-memory killer)" if -returncode == signal.SIGKILL else ""
        return f"was killed by {name}{extra}"
    return f"exited with code {returncode}"
