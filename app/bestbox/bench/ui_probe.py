"""The UI part of `bestbox bench`, run as its own process (Qt wants the main thread and a fresh
QApplication):

    python -m bestbox.bench.ui_probe --out ui.json [--wav clip.wav] [--launches 3]

1. Launch → window shown: `python -m bestbox gui --no-start` with `BESTBOX_GUI_REPORT` (the app's
   own hook: it writes when the window showed), from the moment this process spawns it; the app's
   resident memory (psutil, no servers in it) when the window shows and once it has settled
   (assistant built, Whisper preloaded).
2. Event-loop stalls: the real AppController and MainWindow (offscreen Qt on a qasync loop) with a
   StallMeter heartbeat, while a typed question streams its answer from the running servers, and
   while a voice turn plays a WAV through the recorder path in real time (VAD, speculation,
   transcription in the worker thread, answer streaming).

Servers: whatever runs on the configured ports (the bench has started or adopted them); this
process never starts or stops one.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb(pid: int) -> float | None:
    try:
        import psutil

        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except Exception:
        return None


def measure_launches(n: int, timeout_s: float = 60.0) -> dict:
    """Spawn the GUI n times; time spawn → window shown; memory at shown and settled (first launch)."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["BESTBOX_LOG"] = "ERROR"
    out: dict = {"launch_to_shown_ms": [], "in_run_gui_ms": [], "cpu_s_at_shown": [], "errors": []}
    for i in range(n):
        with tempfile.TemporaryDirectory() as td:
            report = Path(td) / "shown.json"
            env["BESTBOX_GUI_REPORT"] = str(report)
            launched = time.time()
            proc = subprocess.Popen([sys.executable, "-m", "bestbox", "gui", "--no-start"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.time() + timeout_s
                while time.time() < deadline and proc.poll() is None:
                    if report.exists() and report.stat().st_size > 0:
                        try:
                            rep = json.loads(report.read_text())
                            break
                        except json.JSONDecodeError:
                            pass
                    time.sleep(0.01)
                else:
                    err = proc.stderr.read()[-800:] if proc.poll() is not None else "timed out"
                    out["errors"].append(f"launch {i + 1}: no window ({err})")
                    continue
                out["launch_to_shown_ms"].append(round((rep["shown_at"] - launched) * 1000, 1))
                out["in_run_gui_ms"].append(rep.get("shown_ms"))
                out["cpu_s_at_shown"].append(rep.get("cpu_s"))
                if i == 0:
                    out["rss_at_shown_mb"] = _rss_mb(proc.pid)
                    out.update(_settle(proc.pid))
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    return out


def _settle(pid: int, max_s: float = 25.0, quiet_s: float = 3.0) -> dict:
    """Resident memory once the background start-up (assistant, Whisper preload) is done: sample
    until it has not grown by 1 MB for `quiet_s`."""
    t0 = time.time()
    peak = last = _rss_mb(pid) or 0.0
    stable_since = time.time()
    while time.time() - t0 < max_s:
        time.sleep(0.25)
        v = _rss_mb(pid)
        if v is None:
            break
        peak = max(peak, v)
        if v > last + 1.0:
            stable_since = time.time()
            last = v
        elif time.time() - stable_since >= quiet_s:
            break
    return {"rss_settled_mb": _rss_mb(pid) or last, "rss_peak_mb": peak,
            "settle_s": round(time.time() - t0, 1)}


async def _wait(pred, timeout: float, what: str) -> None:
    t = time.time()
    while not pred():
        if time.time() - t > timeout:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(0.05)


def measure_stalls(wav: str | None, answer_tokens: int, question: str) -> dict:
    """The real window on a qasync loop; a heartbeat measures the longest gap in the event loop."""
    import qasync

    from .. import config as config_mod
    from ..ui.app import AppController, make_app
    from ..ui.stall_meter import StallMeter

    app = make_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loaded = config_mod.load()
    holder: dict = {}

    def assistant_factory():
        from ..pipeline.assistant import Assistant
        from .recording import RecordingEndpoints

        # same answer length as the bench's turns
        return Assistant(loaded.config, RecordingEndpoints(holder["ctrl"].manager, answer_cap=answer_tokens))

    session_factory = None
    if wav:
        from ..audio.filesource import FileSoundDevice
        from ..audio.wavfile import read_audio
        from ..ui.voice_adapter import default_session_factory

        audio = read_audio(wav).audio

        def session_factory(**subscriptions):  # the window's own, with the WAV as microphone
            ctrl = holder["ctrl"]
            dev = FileSoundDevice(audio, 16000, name="bench-wav", speed=1.0,
                                  tail_silence_s=loaded.config.speech.vad_silence_ms / 1000 + 1.0)
            return default_session_factory(loaded.config, ctrl.assistant, lambda: ctrl.manager,
                                           sounddevice=dev)(**subscriptions)

    ctrl = AppController(app, loaded, start_servers=False, use_tray=False, assistant_factory=assistant_factory,
                         session_factory=session_factory)
    holder["ctrl"] = ctrl
    result: dict = {"errors": []}

    async def main() -> None:
        try:
            ctrl.show()
            win = ctrl.window
            await _wait(lambda: ctrl.assistant.assistant is not None or ctrl.assistant.error is not None, 120,
                        "the assistant")
            if ctrl.assistant.error:
                raise RuntimeError(ctrl.assistant.error)
            await _wait(lambda: ctrl.manager is not None and ctrl.manager.client("heavy") is not None
                        and ctrl.manager.client("light") is not None, 60, "both servers (adopted or external)")
            if wav:
                await _wait(lambda: ctrl.voice.session is not None and ctrl.voice.session.transcriber.ready, 120,
                            "Whisper preload")
            await _wait(lambda: ctrl.startup_done, 180, "the app's start-up (warm-up, database, Whisper)")
            await asyncio.sleep(0.5)  # start-up work settles
            meter = StallMeter(watchdog_ms=45)
            # idle: what the loop does with nothing going on (the meter's own resolution)
            meter.start()
            await asyncio.sleep(1.0)
            meter.stop()
            result["idle"] = meter.report()
            chat = win.chat
            meter.start()
            t = time.perf_counter()
            chat.composer.input.setPlainText(question)
            chat.composer.input.send_requested.emit()
            await _wait(lambda: chat.running, 5, "the turn to start")
            await _wait(lambda: not chat.running, 300, "the answer")
            meter.stop()
            result["answer"] = {**meter.report(), "turn_s": round(time.perf_counter() - t, 2),
                                "culprits": meter.culprits[:3]}
            ans = chat.answers[-1] if chat.answers else None
            result["answer"]["answer_chars"] = len(getattr(ans, "text", "") or "")
            if wav:
                await asyncio.sleep(0.3)
                meter = StallMeter(watchdog_ms=45)
                meter.start()
                t = time.perf_counter()
                ctrl.voice.toggle()
                await _wait(lambda: ctrl.voice.active, 5, "the voice turn to start")
                await _wait(lambda: not ctrl.voice.active, 300, "the voice turn")
                meter.stop()
                result["voice"] = {**meter.report(), "turn_s": round(time.perf_counter() - t, 2),
                                   "culprits": meter.culprits[:3], "transcript": ctrl.voice.last_raw}
            result["rss_after_turns_mb"] = _rss_mb(os.getpid())
        except Exception as e:  # noqa: BLE001
            result["errors"].append(f"{type(e).__name__}: {e}")
        finally:
            await ctrl.quit()

    with loop:
        loop.run_until_complete(main())
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bestbox.bench.ui_probe")
    ap.add_argument("--out", required=True)
    ap.add_argument("--wav", help="a spoken clip for the voice turn")
    ap.add_argument("--launches", type=int, default=3)
    ap.add_argument("--answer-tokens", type=int, default=48)
    ap.add_argument("--question", default="show me the top five vendors by spend")
    a = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    res: dict = {"platform": os.environ["QT_QPA_PLATFORM"]}
    res["launch"] = measure_launches(a.launches) if a.launches > 0 else {}
    res["stalls"] = measure_stalls(a.wav, a.answer_tokens, a.question)
    Path(a.out).write_text(json.dumps(res, indent=1))
    return 0 if not res["stalls"].get("errors") and not res["launch"].get("errors") else 1


if __name__ == "__main__":
    sys.exit(main())
