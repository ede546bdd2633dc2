"""What happens after a server of ours exits on its own: how it ended (kept for the snapshot, so
the card can say why it restarted), and automatic restarts with exponential backoff up to
`max_restarts`, then giving up."""
from __future__ import annotations

import time

from .logs import exit_report


class Restarts:
    def __init__(self, backoff_s: float) -> None:
        self.backoff_s = backoff_s
        self.count = 0
        self.at = 0.0                          # monotonic time of the pending restart
        self.last_exit = ""                    # "was killed by SIGKILL", "exited with code 1"
        self.last_exit_log: tuple[str, ...] = ()
        self._rc: int | None = None

    def reset(self) -> None:
        """A start the user asked for: a clean slate."""
        self.count, self.last_exit, self.last_exit_log = 0, "", ()

    def record_exit(self, tail: list[str], *, port: int, model: str, returncode: int | None) -> str:
        """Keep how the process ended and its last log lines; return the readable reason."""
        self._rc = returncode
        reason, self.last_exit, self.last_exit_log = exit_report(tail, port=port, model=model, returncode=returncode)
        return reason

    def after_crash(self, reason: str, max_restarts: int) -> tuple[bool, str]:
        """(restart pending?, the message). A signal or an unknown code says more than the log."""
        if self._rc is None or self._rc < 0:
            reason = f"llama-server {self.last_exit}"
        if self.count >= max_restarts:
            return False, f"{reason}; gave up after {max_restarts} automatic restarts"
        delay = self.backoff_s * (2 ** self.count)
        self.count += 1
        self.at = time.monotonic() + delay
        return True, f"{reason}; restarting in {delay:.1f} s (attempt {self.count} of {max_restarts})"

    def due(self) -> bool:
        return time.monotonic() >= self.at

    def wait_s(self) -> float:
        return max(0.05, min(0.5, self.at - time.monotonic()))
