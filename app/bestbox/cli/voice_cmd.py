"""`bestbox voice --wav file.wav [--json]` / `bestbox voice --listen|--wake [WORD] [--json]`: one voice turn
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
    src.add_argument("--wake", nargs="?", const="", metavar="WORD",
                     help="wait for the wake word (voice_in.wake_word, or WORD: okay_nabu, hey_jarvis, hey_mycroft, "
                     "alexa), then record the request that follows")
    src.add_argument("--list-devices", action="store_true", help="list microphones and exit")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument("--device", help="microphone name (substring); default: speech.input_device or the system's")
    p.add_argument("--realtime", action="store_true",
                   help="with --wav: play the file through the recorder in real time (VAD, speculation)")
    p.add_argument("--no-answer", action="store_true", help="transcribe (and clean up) only; no answer")
    p.add_argument("--no-cleanup", action="store_true", help="skip the light model's transcript cleanup")
    p.add_argument("--yes", action="store_true", help="confirm data-changing actions without asking")
    p.add_argument("--no-start", action="store_true", help="do not start servers that are not running")
    p.add_argument("--speak", action="store_true", help="speak the answer as it streams (voice_out settings); "
                   "the JSON gains reply_audio and timings.first_audio_ms")
    p.add_argument("--reply-wav", metavar="FILE", help="with --speak: where to write the spoken reply "
                   "(default: replies/ in the data dir)")
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
    from ..speech.voice_turn import DIDNT_CATCH, has_speech
    from ._runtime import load_config_or_warn
    from .turn_printer import TurnPrinter

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
        if not await has_speech(af.audio):
            return _fail(args, f"{DIDNT_CATCH} {args.wav} contains no speech (silence or noise only).", 3,
                         no_speech=True, transcript_raw="", transcript_clean="")

    printer = TurnPrinter(streaming=not args.json)
    try:
        if args.no_answer and args.no_cleanup:
            result = await _turn(args, cfg, transcriber, loading, printer, None)
        else:
            from ._runtime import servers_for_cli

            async with servers_for_cli(cfg, start=not args.no_start, quiet=args.json) as mgr:
                result = await _turn(args, cfg, transcriber, loading, printer, mgr)
    finally:
        transcriber.close()

    if result.get("error_kind"):
        code = EXIT.get(result["error_kind"], 1)
        return _fail(args, result["error"], code, **{k: v for k, v in result.items() if k != "error"})
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        printer.finish(result, voice=True, answer_asked=not args.no_answer)
    return 1 if result.get("error") else 0


async def _turn(args, cfg, transcriber, loading, printer, mgr) -> dict:
    """One voice turn; with `mgr` (the servers) the cleanup and, unless --no-answer, the pipeline's answer."""
    from ..speech.voice_turn import VoiceSession

    assistant = answerer = None
    if mgr is not None and not args.no_answer:
        from ..pipeline.answerer import PipelineAnswerer
        from ..pipeline.assistant import Assistant

        assistant = Assistant(cfg, mgr)
        answerer = PipelineAnswerer(assistant, on_event=printer.turn_event, auto_confirm=bool(args.yes))
        if args.speak:
            answerer = await _speaking(cfg, answerer, listen=bool(args.listen or args.wake is not None))
    session = VoiceSession(cfg, transcriber=transcriber, on_event=printer.voice_event, answerer=answerer,
                           endpoints=mgr, cleanup=not args.no_cleanup)
    try:
        try:
            await loading
        except Exception:
            pass  # the turn reports the model error
        if args.wav:
            result = await session.run_file(args.wav, realtime=args.realtime)
        elif args.wake is not None:
            result = await _wake_turn(args, cfg, session)
        else:
            result = await session.listen(mode="auto")
        if args.speak and hasattr(answerer, "finish"):
            result = await answerer.finish(result, _reply_path(args))
            turn = result
            while answerer.pending_audio is not None:  # talked over the answer: that is the next turn
                nxt = await session.run_audio(answerer.pending_audio, source="microphone")
                turn["followed_by"] = turn = await answerer.finish(nxt, _reply_path(args))
        return result
    finally:
        if assistant is not None:
            assistant.history.close()


async def _wake_turn(args, cfg, session) -> dict:
    """Wait for the wake word, record the request after it, answer it (result["wake"] says how)."""
    from ..speech.wake import WakeWordUnavailable
    from ..speech.wake_listener import next_request

    word = args.wake or cfg.voice_in.wake_word
    if not word:
        return {"error": "no wake word: set voice_in.wake_word or pass --wake WORD", "error_kind": "internal"}

    def state(s: str) -> None:
        if s == "listening":
            print(f"[listening for the wake word {word!r}]", file=sys.stderr, flush=True)

    try:
        audio, info = await next_request(word, device=cfg.speech.input_device, silence_ms=cfg.speech.vad_silence_ms,
                                         cutoff=cfg.voice_in.wake_cutoff, on_state=state)
    except WakeWordUnavailable as e:
        return {"error": str(e), "error_kind": "internal"}
    if audio is None:
        return {"error": "the wake word was heard, but no request after it", "error_kind": "no_speech", "wake": info}
    result = await session.run_audio(audio, source="microphone")
    result["wake"] = info
    return result


async def _speaking(cfg, answerer, listen: bool = False):
    """The answerer, also speaking its answer (the voice loads off the event loop)."""
    from ..speak.reply import engine_for
    from ..speak.voice_reply import SpeakingAnswerer

    vo = cfg.voice_out
    engine = await asyncio.get_running_loop().run_in_executor(None, engine_for, vo)
    if getattr(engine, "fallback_reason", None):
        print(f"[{engine.fallback_reason}]", file=sys.stderr)
    return SpeakingAnswerer(answerer, engine, output=not vo.muted, device=vo.output_device or None, volume=vo.volume,
                            barge_in=listen and vo.barge_in, microphone=cfg.speech.input_device)


def _reply_path(args):
    if args.reply_wav:
        return args.reply_wav
    import time

    from .. import paths

    return paths.data_dir() / "replies" / time.strftime("reply-%Y%m%d-%H%M%S.wav")
