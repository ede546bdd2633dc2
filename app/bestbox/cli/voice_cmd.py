"""`bestbox voice --wav file.wav [--json]` / `bestbox voice --listen [--json]`: one voice turn
without a window: the whole turn as `ask` does, plus transcript_raw, transcript_clean and
timings.asr_ms / cleanup_ms / speech_end_to_first_token_ms.

Exit codes: 0 answered, 1 the answer failed, 2 unreadable/unsupported audio file, 3 no speech heard,
4 no microphone, 5 no Whisper model, 130 interrupted.
"""
from __future__ import annotations

import asyncio
import json
import sys

EXIT = {"file": 2, "no_speech": 3, "microphone": 4, "model": 5, "cancelled": 130, "internal": 1}


def register(sub) -> None:
    p = sub.add_parser("voice", help="one voice turn from a WAV file or the microphone, without a window")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", metavar="FILE", help="audio file (WAV; other formats via FFmpeg/PyAV)")
    src.add_argument("--listen", action="store_true", help="record from the microphone until you stop talking")
    src.add_argument("--list-devices", action="store_true", help="list microphones and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument("--device", help="microphone name (substring); default: speech.input_device or the system's")
    p.add_argument("--realtime", action="store_true",
                   help="with --wav: play the file through the recorder in real time (VAD, speculation)")
    p.add_argument("--no-answer", action="store_true", help="transcribe (and clean up) only; no answer")
    p.add_argument("--no-cleanup", action="store_true", help="skip the light model's transcript cleanup")
    p.add_argument("--yes", action="store_true", help="confirm data-changing actions without asking")
    p.add_argument("--no-start", action="store_true", help="do not start servers that are not running")
    p.set_defaults(func=run)


def _fail(args, message: str, code: int, **extra) -> int:
    if args.json:
        print(json.dumps({"error": message, **extra}, indent=2, default=str))
    print(f"bestbox voice: {message}", file=sys.stderr)
    return code


def run(args) -> int:
    if args.list_devices:
        return _list_devices(args)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback for the user; the message names what broke
        import logging

        logging.getLogger(__name__).debug("voice failed", exc_info=True)
        return _fail(args, f"voice turn failed: {type(e).__name__}: {e}", 1)


def _list_devices(args) -> int:
    from ..audio.devices import MicrophoneUnavailable, default_input_device, list_input_devices

    try:
        devs = list_input_devices()
    except MicrophoneUnavailable as e:
        return _fail(args, str(e), 4)
    d = default_input_device(devs)
    if args.json:
        print(json.dumps([{"name": x.name, "hostapi": x.hostapi, "channels": x.channels,
                           "samplerate": x.default_samplerate, "default": x is d} for x in devs], indent=2))
    else:
        for x in devs:
            print(f"{'*' if x is d else ' '} {x.name}  ({x.hostapi}, {x.channels} ch, {x.default_samplerate:.0f} Hz)")
        if not devs:
            print("no microphones found", file=sys.stderr)
    return 0 if devs else 4


async def _run(args) -> int:
    from ..audio.wavfile import AudioFileError, read_audio
    from ..speech.transcriber import Transcriber
    from ..speech.voice_turn import DIDNT_CATCH, VoiceSession, route_only_answer
    from ._runtime import load_config_or_warn

    cfg = load_config_or_warn()
    if args.device is not None:
        cfg.speech.input_device = args.device
    transcriber = Transcriber(cfg)
    loading = transcriber.load_async()  # in parallel with the servers' start

    if args.wav:  # fail fast, before any server starts, on a bad file or a silent one
        try:
            af = await asyncio.get_running_loop().run_in_executor(None, read_audio, args.wav)
        except AudioFileError as e:
            return _fail(args, str(e), 2)
        probe = VoiceSession(cfg, transcriber=transcriber, answer=False, cleanup=False)
        if not await probe._has_speech(af.audio):
            return _fail(args, f"{DIDNT_CATCH} {args.wav} contains no speech (silence or noise only).", 3,
                         no_speech=True, transcript_raw="", transcript_clean="")

    streaming = not args.json

    def on_event(ev) -> None:
        if not streaming:
            return
        k, d = ev.kind, ev.data
        if k == "recording_started":
            print(f"[listening on {d['device']} · {d['samplerate']:.0f} Hz — speak, then pause]", file=sys.stderr)
        elif k == "speech_started":
            print("[speech]", file=sys.stderr)
        elif k == "recording_stopped" and d.get("error"):
            print(f"[{d['error']}]", file=sys.stderr)
        elif k == "transcript_raw":
            print(f"you said: {d['text']}  [{d['asr_ms']:.0f} ms{'' if d['confident'] else ', unsure'}]",
                  file=sys.stderr)
        elif k == "transcript_clean" and d.get("changed"):
            print(f"cleaned:  {d['text']}  [{d['cleanup_ms']:.0f} ms]", file=sys.stderr)
        elif k == "answer":
            e = d["event"]
            if e.kind == "route":
                r = e.data["decision"]
                print(f"[{r.get('agent')} · {r.get('tier')} · {r.get('decided_by')}]", file=sys.stderr)
            elif e.kind == "token":
                sys.stdout.write(e.data["text"])
                sys.stdout.flush()
            elif e.kind == "note":
                print(f"[note] {e.data['text']}", file=sys.stderr)

    async def turn(endpoints=None, assistant=None, answer_fn=None) -> dict:
        session = VoiceSession(cfg, transcriber=transcriber, on_event=on_event, answer=not args.no_answer,
                               endpoints=endpoints, assistant=assistant, cleanup=not args.no_cleanup,
                               answer_fn=answer_fn, auto_confirm=bool(args.yes) if args.yes else None)
        try:
            await loading
        except Exception:
            pass  # the turn reports the model error
        if args.wav:
            return await session.run_file(args.wav, realtime=args.realtime)
        return await session.listen(mode="auto")

    needs_servers = not (args.no_answer and args.no_cleanup)
    result: dict
    if needs_servers:
        try:
            from ..pipeline.assistant import Assistant
            from ._runtime import servers_for_cli
            import importlib

            importlib.import_module("bestbox.servers.manager")
        except ImportError as e:  # the answering side is not built in this checkout
            print(f"[answering unavailable ({e}); transcript only]", file=sys.stderr)
            result = await turn(answer_fn=route_only_answer)
        else:
            async with servers_for_cli(cfg, start=not args.no_start, quiet=args.json) as mgr:
                assistant, answer_fn = None, None
                if not args.no_answer:
                    try:
                        assistant = Assistant(cfg, mgr)
                    except Exception as e:  # the answering side is broken: still transcribe and route
                        print(f"[answering unavailable ({type(e).__name__}: {e}); transcript and route only]",
                              file=sys.stderr)
                        answer_fn = route_only_answer
                try:
                    result = await turn(endpoints=mgr, assistant=assistant, answer_fn=answer_fn)
                finally:
                    if assistant is not None:
                        assistant.history.close()
    else:
        result = await turn()
    transcriber.close()

    if result.get("error_kind"):
        code = EXIT.get(result["error_kind"], 1)
        return _fail(args, result["error"], code, **{k: v for k, v in result.items() if k != "error"})
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        if result.get("answer"):
            print()
        elif not args.no_answer and result.get("route"):
            print(f"route: {result['route']}")
        t = result.get("timings") or {}
        if result.get("error"):
            print(f"error: {result['error']}", file=sys.stderr)
        print(f"[asr {t.get('asr_ms')} ms · cleanup {t.get('cleanup_ms')} ms · speech end → first token "
              f"{t.get('speech_end_to_first_token_ms')} ms · {result.get('model')}]", file=sys.stderr)
    return 1 if result.get("error") else 0
