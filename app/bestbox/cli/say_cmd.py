"""`bestbox say "text" [--out reply.wav] [--engine piper|espeak] [--voice V] [--rate R] [--json]`:
speak text (Markdown is cleaned for speech) through the speakers, or into a WAV file.

Exit codes: 0 spoken/written, 1 synthesis failed, 2 bad input (empty text, unwritable file)."""
from __future__ import annotations

import json
import sys


def register(sub) -> None:
    p = sub.add_parser("say", help="speak text aloud (or into a WAV file) with BestBox's voice")
    p.add_argument("text", help="what to say (Markdown is read for the ear); '-' reads stdin")
    p.add_argument("--out", metavar="WAV", help="write the speech to this WAV file instead of playing it")
    p.add_argument("--play", action="store_true", help="with --out: also play it")
    p.add_argument("--engine", choices=("piper", "espeak"), help="default: voice_out.engine")
    p.add_argument("--voice", help="piper: a voice .onnx; espeak: a voice name (default: voice_out.voice)")
    p.add_argument("--rate", type=float, help="speed, 1.0 = the voice's own (0.5 to 2.0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _fail(args, message: str, code: int) -> int:
    if args.json:
        print(json.dumps({"error": message}))
    print(f"bestbox say: {message}", file=sys.stderr)
    return code


def run(args) -> int:
    import time

    from ..audio.wavfile import write_wav
    from ..speak.engines import EngineError, make_engine
    from ..speak.player import Speaker
    from ..speak.sentences import SentenceAggregator
    from ._runtime import load_config_or_warn

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        return _fail(args, "nothing to say (empty text)", 2)
    rate = args.rate if args.rate is not None else None
    if rate is not None and not 0.5 <= rate <= 2.0:
        return _fail(args, f"--rate {rate} is outside 0.5 to 2.0", 2)
    cfg = load_config_or_warn().voice_out
    t0 = time.perf_counter()
    try:
        engine = make_engine(args.engine or cfg.engine, args.voice if args.voice is not None else cfg.voice,
                             rate if rate is not None else cfg.rate)
    except EngineError as e:
        return _fail(args, str(e), 1)
    if getattr(engine, "fallback_reason", None):
        print(f"[{engine.fallback_reason}]", file=sys.stderr)
    load_ms = (time.perf_counter() - t0) * 1000
    first: list[float] = []
    speaker = Speaker(engine, output=bool(args.play or not args.out), device=cfg.output_device or None,
                      on_first_audio=lambda: first.append((time.perf_counter() - t0) * 1000))
    agg = SentenceAggregator()
    for s in agg.feed(text) + agg.flush():
        speaker.say(s)
    speaker.finish()
    try:
        speaker.wait()
    except KeyboardInterrupt:
        speaker.stop()
        return 130
    finally:
        speaker.close()
    audio = speaker.audio()
    if not audio.size:
        return _fail(args, "the engine produced no audio", 1)
    if args.out:
        try:
            write_wav(args.out, audio, engine.sample_rate)
        except OSError as e:
            return _fail(args, f"cannot write {args.out}: {e}", 2)
    out = {"engine": engine.name, "sample_rate": engine.sample_rate, "seconds": round(audio.size / engine.sample_rate, 2),
           "sentences": speaker.state.queued, "out": args.out, "load_ms": round(load_ms, 1),
           "first_audio_ms": round(first[0], 1) if first else None, "output_error": speaker.output_error}
    if args.json:
        print(json.dumps(out, indent=2))
    elif speaker.output_error and not args.out:
        print(f"[{speaker.output_error}]", file=sys.stderr)
    return 0
