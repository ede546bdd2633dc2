"""After a crash the card names how the server ended (signal or exit code) and its last log lines
(issue 14's "restarted 1×, but not why")."""
from __future__ import annotations

import signal

from bestbox.servers.logs import exit_report

TAIL = ["srv  load_model: loading model", "slot update_slots: id  0 | task 12 | prompt done",
        "[bestbox] restarting", "ggml_abort: something broke"]


def test_exit_report_names_the_signal_the_code_and_the_log_lines():
    reason, how, lines = exit_report(TAIL, port=8081, model="m.gguf", returncode=-signal.SIGSEGV)
    assert how == "was killed by SIGSEGV" and lines[-1] == "ggml_abort: something broke"
    assert not any(ln.startswith("[bestbox]") for ln in lines)      # our own notes are not the server's log
    assert "SIGSEGV" in reason
    _, how, _ = exit_report(TAIL, port=8081, model="m.gguf", returncode=-signal.SIGKILL)
    assert how.startswith("was killed by SIGKILL") and "out-of-memory" in how
    _, how, _ = exit_report(TAIL, port=8081, model="m.gguf", returncode=3)
    assert how == "exited with code 3"
    _, how, _ = exit_report(TAIL, port=8081, model="m.gguf", returncode=None)
    assert "exit code is unknown" in how
    _, _, lines = exit_report([f"line {i}" for i in range(30)], port=1, model="m", returncode=1, keep=8)
    assert lines == tuple(f"line {i}" for i in range(22, 30))
