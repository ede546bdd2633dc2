"""faster-whisper latency on a GPU without carrying Whisper weights.

Whisper's speed does not depend on its weight values, only on the shapes and on how many tokens it
decodes. So on the GPU machine this writes CTranslate2 Whisper models of the real shapes (tiny.en,
small.en, large-v3-turbo) filled with random numbers (numpy straight into ctranslate2's
WhisperSpec; no torch/transformers needed), and times faster-whisper's `transcribe` with the app's
own arguments (`bestbox.speech.transcriber`: beam 1, temperature 0, no timestamps, the glossary's
initial prompt) on the bench's espeak-ng clips, forcing each clip to decode as many tokens as the
real tiny.en decodes for it (end-of-text suppressed, `max_new_tokens` = real count + 1 step).

    prep   (here)  clips (16 kHz float32, as the bench trims them), the glossary hint, and the real
                   tiny.en transcript/token count of each clip -> DIR/inputs.npz + DIR/inputs.json
    bench  (GPU)   build each random model and time it -> JSON on stdout / --out

`bench --real MODEL_DIR` times a real converted model instead (no forcing), which is how the random
model was checked against the real tiny.en on this machine's CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np

RATE = 16000

# (n_mels, d_model, encoder layers, decoder layers, heads, ffn, vocab) of OpenAI's checkpoints.
SHAPES = {
    "tiny.en": (80, 384, 4, 4, 6, 1536, 51864),
    "base.en": (80, 512, 6, 6, 8, 2048, 51864),
    "small.en": (80, 768, 12, 12, 12, 3072, 51864),
    "medium.en": (80, 1024, 24, 24, 16, 4096, 51864),
    "large-v3-turbo": (128, 1280, 32, 4, 20, 5120, 51866),
}


def _stub_av() -> None:
    """faster_whisper imports PyAV at import time for file decoding; we only pass numpy arrays."""
    if "av" not in sys.modules:
        try:
            import av  # noqa: F401
        except ImportError:
            sys.modules["av"] = types.ModuleType("av")


# -- here: inputs ---------------------------------------------------------------------------------
def prep(out: Path) -> None:
    from bestbox import config as C
    from bestbox.audio.vad import find_speech
    from bestbox.audio.wavfile import read_audio
    from bestbox.bench import utterances as U
    from bestbox.paths import demo_whisper_model
    from bestbox.speech.glossary import Glossary
    from bestbox.speech.voice_turn import TAIL_S

    out.mkdir(parents=True, exist_ok=True)
    cfg = C.load(create=False).config
    g = Glossary.from_config(cfg)
    hint = g.whisper_prompt(g.for_whisper(None))
    wavs = U.make_wavs(out / "tmp", list(U.ASR.values()))
    arrays, meta = {}, {"hint": hint, "clips": {}}
    for target, u in U.ASR.items():
        audio = read_audio(wavs[u.key]).audio
        first, last = find_speech(audio)
        last = last or len(audio)
        seg = np.asarray(audio[: min(len(audio), last + int(TAIL_S * RATE))], np.float32)
        arrays[f"c{target}"] = seg
        meta["clips"][str(target)] = {"text": u.text, "audio_s": round(len(seg) / RATE, 2),
                                      "voiced_s": round((last - (first or 0)) / RATE, 2)}
    for p in wavs.values():
        p.unlink(missing_ok=True)
    (out / "tmp" / "wav").rmdir()
    (out / "tmp").rmdir()
    # the real tiny.en: transcript and how many tokens it decodes for each clip
    res = run_model(str(demo_whisper_model()), "cpu", "int8", arrays, meta, reps=1, forced=None)
    for t, r in res["clips"].items():
        meta["clips"][t].update(transcript=r["transcript"], tokens=r["generated_tokens"])
    np.savez_compressed(out / "inputs.npz", **arrays)
    (out / "inputs.json").write_text(json.dumps(meta, indent=1))
    print(json.dumps(meta, indent=1))


# -- GPU machine: random models -------------------------------------------------------------------
def build_random(size: str, out: Path, vocab_file: Path, config_file: Path, seed: int = 0) -> Path:
    import ctranslate2
    from ctranslate2.specs import whisper_spec

    n_mels, d, n_enc, n_dec, heads, ffn, vocab = SHAPES[size]
    rng = np.random.default_rng(seed)

    def rnd(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02)

    def lin(s, o, i, bias=True):
        s.weight = rnd(o, i)
        if bias:
            s.bias = rnd(o)

    def ln(s):
        s.gamma = np.ones(d, np.float32)
        s.beta = np.zeros(d, np.float32)

    def ffn_(s):
        lin(s.linear_0, ffn, d)
        lin(s.linear_1, d, ffn)
        ln(s.layer_norm)

    spec = whisper_spec.WhisperSpec(n_enc, heads, n_dec, heads)
    e = spec.encoder
    e.conv1.weight, e.conv1.bias = rnd(d, n_mels, 3), rnd(d)
    e.conv2.weight, e.conv2.bias = rnd(d, d, 3), rnd(d)
    e.position_encodings.encodings = rnd(1500, d)
    ln(e.layer_norm)
    for L in e.layer:
        lin(L.self_attention.linear[0], 3 * d, d)
        lin(L.self_attention.linear[1], d, d)
        ln(L.self_attention.layer_norm)
        ffn_(L.ffn)
    dec = spec.decoder
    emb = rnd(vocab, d)
    dec.embeddings.weight = emb
    dec.position_encodings.encodings = rnd(448, d)
    ln(dec.layer_norm)
    for L in dec.layer:
        lin(L.self_attention.linear[0], 3 * d, d)
        lin(L.self_attention.linear[1], d, d)
        ln(L.self_attention.layer_norm)
        lin(L.attention.linear[0], d, d)
        lin(L.attention.linear[1], 2 * d, d)
        lin(L.attention.linear[2], d, d)
        ln(L.attention.layer_norm)
        ffn_(L.ffn)
    dec.projection.weight = emb  # tied, as in Whisper
    tokens = vocab_file.read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    tokens = tokens[:vocab] + [f"<|pad{i}|>" for i in range(vocab - len(tokens))]
    spec.register_vocabulary(tokens)
    real = json.loads(config_file.read_text())
    for k in ("suppress_ids", "suppress_ids_begin", "lang_ids"):
        setattr(spec.config, k, real.get(k))
    spec.config.alignment_heads = [[n_dec // 2, 0]]
    spec.validate()
    spec.optimize(quantization="float16")
    out.mkdir(parents=True, exist_ok=True)
    spec.save(str(out))
    import shutil

    shutil.copy(vocab_file.parent / "tokenizer.json", out / "tokenizer.json")
    (out / "preprocessor_config.json").write_text(json.dumps({"feature_size": n_mels}))
    return out


class _Counting:
    """Forwards to ctranslate2.models.Whisper and records how many tokens each generate() made."""

    def __init__(self, inner):
        self._inner = inner
        self.generated: list[int] = []
        self.encode_ms: list[float] = []

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def generate(self, *a, **kw):
        res = self._inner.generate(*a, **kw)
        prompt = a[1] if len(a) > 1 else kw.get("prompts")
        for r, p in zip(res, prompt):
            self.generated.append(len(r.sequences_ids[0]) - (0 if kw.get("include_prompt_in_result") is False
                                                             else 0))
        return res

    def encode(self, *a, **kw):
        t = time.perf_counter()
        r = self._inner.encode(*a, **kw)
        if self._inner.device == "cuda":
            # encode returns a StorageView on the GPU asynchronously; .shape forces nothing, so
            # the time here is the launch time on CUDA. The total below is what counts.
            pass
        self.encode_ms.append((time.perf_counter() - t) * 1000)
        return r


def _summary(xs):
    xs = sorted(xs)
    if not xs:
        return None
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    return {"median": round(statistics.median(xs), 1), "p90": round(p90, 1), "max": round(xs[-1], 1),
            "min": round(xs[0], 1), "n": len(xs)}


def run_model(model_dir: str, device: str, compute_type: str, arrays: dict, meta: dict, *, reps: int,
              forced: dict | None, warmup: int = 2) -> dict:
    _stub_av()
    from faster_whisper import WhisperModel
    from faster_whisper.feature_extractor import FeatureExtractor

    t = time.perf_counter()
    wm = WhisperModel(model_dir, device=device, compute_type=compute_type,
                      cpu_threads=(os.cpu_count() if device == "cpu" else 0))
    load_ms = (time.perf_counter() - t) * 1000
    counter = _Counting(wm.model)
    wm.model = counter
    eot = wm.hf_tokenizer.token_to_id("<|endoftext|>")
    hint = meta.get("hint") or None
    fe = wm.feature_extractor

    limit = {}

    def once(target, max_new=None):
        a = arrays[f"c{target}"]
        kw = dict(language="en", beam_size=1, best_of=1, temperature=0.0, condition_on_previous_text=False,
                  without_timestamps=True, hotwords=None, initial_prompt=hint, vad_filter=False)
        if forced is not None:
            kw.update(max_new_tokens=max_new or limit[target], suppress_tokens=[-1, eot], no_speech_threshold=None)
        counter.generated.clear()
        t0 = time.perf_counter()
        segs, info = wm.transcribe(a, **kw)
        segs = list(segs)
        ms = (time.perf_counter() - t0) * 1000
        text = " ".join(s.text.strip() for s in segs).strip()
        return ms, sum(counter.generated), sum(len(s.tokens) for s in segs), text

    targets = sorted(int(k) for k in meta["clips"])
    if forced is not None:
        # A random model never says end-of-text (suppressed), so max_new_tokens bounds the decode;
        # but CTranslate2 does not stop at exactly max_length - prompt (seen: fewer), so find the
        # smallest max_new_tokens that decodes the real count + 1 tokens (the real model's last
        # step is the end-of-text token) by bisection, per clip.
        for t in targets:
            want = forced[t] + 1
            lo, hi = 1, 440 - 40
            while lo < hi:
                mid = (lo + hi) // 2
                if once(t, mid)[1] >= want:
                    hi = mid
                else:
                    lo = mid + 1
            limit[t] = lo
    for _ in range(warmup):
        once(targets[0])
    out = {"model_dir": model_dir, "device": device, "compute_type": compute_type, "load_ms": round(load_ms),
           "clips": {}}
    samples = {t: [] for t in targets}
    last = {}
    for r in range(reps):
        for t in (targets if r % 2 == 0 else targets[::-1]):
            ms, gen, segtok, text = once(t)
            samples[t].append(ms)
            last[t] = (gen, segtok, text)
    for t in targets:
        a = arrays[f"c{t}"]
        feat = []
        for _ in range(max(3, min(reps, 10))):
            t0 = time.perf_counter()
            fe(a)
            feat.append((time.perf_counter() - t0) * 1000)
        gen, segtok, text = last[t]
        s = _summary(samples[t])
        out["clips"][str(t)] = {"audio_s": round(len(a) / RATE, 2), "ms": s,
                                "rtf": round(s["median"] / 1000 / (len(a) / RATE), 4),
                                "features_ms_cpu": _summary(feat), "generated_tokens": segtok,
                                "decode_steps": gen, "forced_tokens": forced[t] + 1 if forced else None,
                                "max_new_tokens": limit.get(t),
                                "transcript": text if forced is None else None}
    return out


def bench(args) -> None:
    d = Path(args.inputs)
    meta = json.loads((d / "inputs.json").read_text())
    arrays = dict(np.load(d / "inputs.npz"))
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "inputs": meta, "runs": [], "errors": {}}
    try:
        import ctranslate2

        result["ctranslate2"] = ctranslate2.__version__
        result["cuda_devices"] = ctranslate2.get_cuda_device_count()
    except Exception as e:  # noqa: BLE001
        result["errors"]["import"] = repr(e)
    if args.gpu_name:
        result["gpu"] = args.gpu_name
    forced = {int(k): v["tokens"] for k, v in meta["clips"].items()}
    jobs = []
    if args.real:
        jobs.append(("real", args.real, None))
    for size in args.sizes:
        jobs.append((size, None, forced))
    work = Path(args.work)
    for name, real_dir, f in jobs:
        try:
            t = time.perf_counter()
            if real_dir:
                mdir, build_s = real_dir, None
            else:
                mdir = str(build_random(name, work / name, Path(args.vocab), Path(args.config)))
                build_s = round(time.perf_counter() - t, 1)
            for ct in args.compute_types:
                try:
                    r = run_model(mdir, args.device, ct, arrays, meta, reps=args.reps, forced=f)
                    r.update(model=name, random_weights=real_dir is None, build_s=build_s)
                    result["runs"].append(r)
                    print(f"# {name} {args.device} {ct}: " + ", ".join(
                        f"{k}s {v['ms']['median']} ms ({v['decode_steps']} steps)" for k, v in r["clips"].items()),
                        file=sys.stderr, flush=True)
                except Exception as e:  # noqa: BLE001
                    result["errors"][f"{name}/{ct}"] = repr(e)
                    print(f"# {name} {ct} FAILED: {e!r}", file=sys.stderr, flush=True)
        except Exception as e:  # noqa: BLE001
            result["errors"][name] = repr(e)
            print(f"# {name} build FAILED: {e!r}", file=sys.stderr, flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prep")
    p.add_argument("out")
    b = sub.add_parser("bench")
    b.add_argument("--inputs", required=True)
    b.add_argument("--vocab", required=True, help="a real Whisper CT2 model's vocabulary.txt (tokenizer.json beside it)")
    b.add_argument("--config", required=True, help="that model's config.json (suppress ids)")
    b.add_argument("--sizes", nargs="*", default=["tiny.en", "small.en", "large-v3-turbo"])
    b.add_argument("--compute-types", nargs="*", default=["float16"])
    b.add_argument("--device", default="cuda")
    b.add_argument("--reps", type=int, default=10)
    b.add_argument("--real", help="also time this real model dir, not forced")
    b.add_argument("--work", default="/tmp/asr-work")
    b.add_argument("--out")
    b.add_argument("--gpu-name")
    args = ap.parse_args()
    if args.cmd == "prep":
        prep(Path(args.out))
    else:
        bench(args)


if __name__ == "__main__":
    main()
