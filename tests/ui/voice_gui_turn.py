"""Child process for test_voice_gui: the real window (AppController) with real servers, Whisper and
the PulseAudio virtual microphone. It clicks the mic button, tells the parent (stdout JSON line
`{"event": "recording"}`) to play speech into the sink, waits for the turn to finish, and prints
what the window shows. Run with XDG_RUNTIME_DIR pointing at the PulseAudio daemon (sounddevice
reads it when first imported), $BESTBOX_CONFIG and $DISPLAY set."""
from __future__ import annotations

import asyncio
import json
import sys
import time


def say(**kw) -> None:
    print(json.dumps(kw), flush=True)


def main() -> int:
    import qasync
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from bestbox import config as config_mod
    from bestbox.ui.app import AppController, make_app
    from bestbox.ui.message_bubble import UserBubble
    from bestbox.ui.stall_meter import StallMeter

    import threading

    from bestbox.speech import transcriber, voice_turn

    # Where the slow work ran: Whisper's load and transcription and Silero VAD must never run on
    # the UI thread (the stall that would cause is measured by `bestbox bench`).
    out: dict = {"events": [], "slow_work_threads": []}

    def on_thread(fn, what):
        def wrapper(*a, **k):
            out["slow_work_threads"].append((what, threading.current_thread().name,
                                             threading.current_thread() is threading.main_thread()))
            return fn(*a, **k)
        return wrapper

    transcriber.Transcriber.load = on_thread(transcriber.Transcriber.load, "whisper load")
    transcriber.Transcriber.transcribe_sync = on_thread(transcriber.Transcriber.transcribe_sync, "whisper")
    voice_turn.silero_speech_ms = on_thread(voice_turn.silero_speech_ms, "silero vad")

    shot = sys.argv[1] if len(sys.argv) > 1 else ""
    app = make_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    ctrl = AppController(app, config_mod.load(), use_tray=False)
    ctrl.show()
    win = ctrl.window
    t_start = time.monotonic()

    def note(kind, data, ev):
        k = kind if kind != "turn" else f"turn:{getattr(ev, 'kind', '?')}"
        if kind == "recording_stopped":
            out["stop_reason"] = data.get("reason")
        if out["events"] and out["events"][-1][0] == k == "turn:token":
            return
        out["events"].append((k, round(time.monotonic() - t_start, 2)))

    ctrl.voice.event.connect(note)

    async def wait(pred, timeout: float, what: str) -> None:
        t = time.monotonic()
        while not pred():
            if time.monotonic() - t > timeout:
                raise TimeoutError(what)
            await asyncio.sleep(0.05)

    async def run() -> None:
        try:
            await wait(lambda: all(c.badge.state == "ready" for c in win.servers.cards.values()), 120, "servers")
            await wait(lambda: ctrl.startup_done, 180, "start-up (assistant, Whisper)")
            meter = StallMeter(watchdog_ms=45)
            meter.start()
            QTest.mouseClick(win.chat.composer.mic, Qt.MouseButton.LeftButton)  # a click: talk, VAD ends it
            await wait(lambda: ctrl.voice.recording, 15, "recording to start")
            say(event="recording")
            await wait(lambda: not ctrl.voice.recording, 60, "end of speech")
            out["recording_ended_by_itself"] = True
            await wait(lambda: not ctrl.voice.active, 180, "the answer")
            meter.stop()
            users = [b for b in win.chat.bubbles if isinstance(b, UserBubble)]
            ans = win.chat.answers[-1] if win.chat.answers else None
            out.update(user_text=users[-1].label.text() if users else None,
                       user_raw=users[-1].raw if users else None,
                       answer=ans.text if ans else None,
                       badges=ans.badges.texts() if ans else [],
                       error=getattr(ans, "error_text", None) if ans else None,
                       max_stall_ms=meter.max_stall_ms,
                       route_detail=((ctrl.voice.session.last_result or {}).get("route") or {}).get("detail"),
                       speculation_reused=((ctrl.voice.session.last_result or {}).get("timings") or {})
                       .get("speculation_reused"),
                       cleanup_policy=(ctrl.voice.session.last_result or {}).get("cleanup_policy"),
                       culprits=meter.culprits[:2])
            if shot:
                win.grab().save(shot)
        except Exception as e:  # noqa: BLE001
            out["failure"] = f"{type(e).__name__}: {e}"
        finally:
            say(result=out)
            await ctrl.quit()

    loop.create_task(run())
    ctrl.finished.connect(loop.stop)
    with loop:
        loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
