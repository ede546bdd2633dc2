"""The local fast path: a small lexical classifier that needs no server.

TF-IDF over words, word bigrams and character 3–5-grams (the character n-grams absorb speech
recognition noise: "menders" still shares "nder", "ders" with "vendors"), one centroid per agent,
cosine similarity, a softmax over the similarities for a calibrated-ish confidence. Trained at
load from the shipped examples plus the user's corrections (a few tens of milliseconds), decides
in well under a millisecond. Corrections also sit in a nearest-neighbour memory, so the corrected
text — or a close variant — routes to the corrected agent at once.

Also here: `estimate_task`, the cheap complexity / answer-length guess the tiering policy reads.
"""
from __future__ import annotations

import hashlib
from array import array
import json
import marshal
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

from .decision import AGENTS, DOMAIN_AGENTS
from .policy import Task

FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "hmm", "uhm", "ah", "eh"})
SOFTMAX_SCALE = 45.0        # cosines → probabilities; the NLL-best scale in 5-fold CV on the train split
CORRECTION_WEIGHT = 4.0     # a corrected example counts like this many shipped ones in its centroid
CORRECTION_MATCH = 0.70     # cosine to a corrected text at which the correction decides outright
TEST_SHARE = 5              # 1 in 5 examples (by text hash) is held out for accuracy
MODEL_VERSION = 5           # bump when features() or the model changes (invalidates the cache)


def normalize(text: str) -> list[str]:
    """Lowercase words without punctuation or fillers ("Um, what's PO-4512?" → what s po 4512)."""
    t = text.lower().replace("'", "").replace("\u2019", "")
    t = re.sub(r"[^a-z0-9%]+", " ", t)
    t = re.sub(r"\b(\d+) (am|pm)\b", r"\1\2", t)      # "4 pm" and "4pm" are one word
    return [w for w in t.split() if w not in FILLERS]


def norm_key(text: str) -> str:
    return " ".join(normalize(text))


def split_of(text: str) -> str:
    """Deterministic train/test split by a hash of the normalized text."""
    h = int(hashlib.sha1(norm_key(text).encode()).hexdigest(), 16)
    return "test" if h % TEST_SHARE == 0 else "train"


def features(text: str) -> Counter:
    """Words, word bigrams and character 3-5-grams; digits masked ("po 4512" ~ "po 8812")."""
    toks = [re.sub(r"[0-9]", "0", w) for w in normalize(text)]
    f: Counter = Counter()
    for w in toks:
        f["w:" + w] += 1
        s = f"<{w}>"
        for n in (3, 4, 5):
            for i in range(len(s) - n + 1):
                f[s[i : i + n]] += 1
    for a, b in zip(toks, toks[1:]):
        f["b:" + a + "_" + b] += 1
    return f


def entity_cues(text: str, names: dict[str, str]) -> str:
    """The text plus the kind of each of the user's own names it mentions ("what about Deco Addict"
    → "... customer"), so a name no shipped example contains still carries its domain's cue word.
    `names`: {norm_key(name): "vendor" | "customer" | "product" | "employee"} (data/records/names.py)."""
    if not names:
        return text
    toks = normalize(text)
    kinds: list[str] = []
    for n in (4, 3, 2, 1):
        for i in range(len(toks) - n + 1):
            kind = names.get(" ".join(toks[i:i + n]))
            if kind and kind not in kinds:
                kinds.append(kind)
    return text + "".join(f" {k}" for k in kinds)


def load_examples(path: Path | None = None, split: str = "all") -> list[dict]:
    """The shipped labelled set (or a JSONL file of {"text", "agent"}); split: train, test, all."""
    if path is None:
        text = resources.files("bestbox.routing").joinpath("data/labelled.jsonl").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("agent") not in AGENTS:
            raise ValueError(f"unknown agent {r.get('agent')!r} in {line!r}")
        if split == "all" or split_of(r["text"]) == split:
            rows.append({"text": r["text"], "agent": r["agent"]})
    return rows


@dataclass
class FastResult:
    agent: str
    confidence: float
    scores: dict
    correction: bool = False   # decided by a stored correction's text
    ms: float = 0.0


def _cache_file(key: str) -> Path:
    from .. import paths

    return paths.data_dir() / "cache" / f"fastpath-{key[:16]}.marshal"


def _pack(idf: dict, unseen: float, base: dict, norms: dict):
    """Compact cache: the vocabulary as one string, numbers as packed doubles (loads in ~ms)."""
    vocab = list(idf)
    index = {k: i for i, k in enumerate(vocab)}
    cents = {a: (array("i", [index[k] for k in c]).tobytes(), array("d", c.values()).tobytes(), norms[a])
             for a, c in base.items()}
    return ("\x00".join(vocab), array("d", idf.values()).tobytes(), unseen, cents)


def _unpack(blob):
    vocab_s, idf_b, unseen, cents = blob
    vocab = vocab_s.split("\x00")
    idf_v = array("d")
    idf_v.frombytes(idf_b)
    if len(idf_v) != len(vocab):
        raise ValueError("corrupt cache")
    base, norms = {}, {}
    for a, (idx_b, val_b, norm) in cents.items():
        idx, val = array("i"), array("d")
        idx.frombytes(idx_b)
        val.frombytes(val_b)
        base[a] = dict(zip(map(vocab.__getitem__, idx), val))
        norms[a] = norm
    return dict(zip(vocab, idf_v)), unseen, base, norms


def _cache_load(key: str):
    try:
        return _unpack(marshal.loads(_cache_file(key).read_bytes()))
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError):
        return None


def _cache_save(key: str, value) -> None:
    try:
        f = _cache_file(key)
        f.parent.mkdir(parents=True, exist_ok=True)
        for old in f.parent.glob("fastpath-*.marshal.tmp"):
            old.unlink(missing_ok=True)
        tmp = f.with_suffix(".marshal.tmp")
        tmp.write_bytes(marshal.dumps(value))
        tmp.replace(f)
        olds = sorted(f.parent.glob("fastpath-*.marshal"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in olds[4:]:   # keep a few (shipped set, train split for eval, ...), drop stale ones
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only data dir only costs the cache


def _unit(v: dict) -> dict:
    n = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {k: x / n for k, x in v.items()}


class FastPath:
    """`FastPath.from_shipped(corrections)` → `.classify(text)` → FastResult."""

    def __init__(self, examples: Iterable[dict], corrections: Iterable[tuple[str, str]] = ()):
        self._examples = [(e["text"], e["agent"]) for e in examples]
        self._corrections: dict[str, tuple[str, str]] = {}   # norm text → (text, agent); last wins
        for text, agent in corrections:
            self._corrections[norm_key(text)] = (text, agent)
        self._build()

    @classmethod
    def from_shipped(cls, corrections: Iterable[tuple[str, str]] = (), split: str = "all") -> "FastPath":
        return cls(load_examples(split=split), corrections)

    # -- training -------------------------------------------------------------------------------
    # The shipped examples fix the vocabulary and IDF; their per-agent vector sums are cached on
    # disk (marshal, keyed by the examples' hash), so a warm load takes a few milliseconds.
    # Corrections are added on top of those sums: cheap, and the correction takes effect at once.
    def _build(self) -> None:
        t0 = time.perf_counter()
        key = hashlib.sha1(json.dumps([MODEL_VERSION, sys.version_info[:2], self._examples]).encode()).hexdigest()
        cached = _cache_load(key)
        if cached is None:
            rows = [(features(t), a) for t, a in self._examples]
            df: Counter = Counter()
            for f, _ in rows:
                df.update(f.keys())
            n = len(rows)
            self._idf = {k: math.log((1 + n) / (1 + d)) + 1.0 for k, d in df.items()}
            self._unseen_idf = math.log(1 + n) + 1.0
            sums: dict[str, dict] = {a: {} for a in AGENTS}
            for f, agent in rows:
                acc = sums[agent]
                for k, x in self._vec(f).items():
                    acc[k] = acc.get(k, 0.0) + x
            self._norms = {a: math.sqrt(sum(x * x for x in c.values())) or 1.0 for a, c in sums.items()}
            self._base = {a: {k: x / self._norms[a] for k, x in c.items()} for a, c in sums.items()}
            _cache_save(key, _pack(self._idf, self._unseen_idf, self._base, self._norms))
        else:
            self._idf, self._unseen_idf, self._base, self._norms = cached
        self._apply_corrections()
        self.build_ms = (time.perf_counter() - t0) * 1000.0

    def _apply_corrections(self) -> None:
        """Centroids = shipped sums + weighted corrections; only corrected agents are recomputed.
        The new state is built aside and swapped in, so a concurrent classify() sees old or new."""
        memory, extra = [], {}
        for text, agent in self._corrections.values():
            v = self._vec(features(text), unseen=True)
            memory.append((v, agent))
            if agent not in extra:
                norm = self._norms[agent]
                extra[agent] = {k: x * norm for k, x in self._base[agent].items()}   # the shipped sum
            acc = extra[agent]
            for k, x in v.items():
                acc[k] = acc.get(k, 0.0) + CORRECTION_WEIGHT * x
        centroids = dict(self._base)
        for agent, c in extra.items():
            centroids[agent] = _unit(c)
        self._centroids, self._memory = centroids, memory

    def _vec(self, f: Counter, unseen: bool = False) -> dict:
        """L2-normalised TF-IDF. unseen=True keeps features the shipped set lacks (corrections)."""
        idf = self._idf
        if unseen:
            u = self._unseen_idf
            return _unit({k: (1.0 + math.log(c)) * idf.get(k, u) for k, c in f.items()})
        return _unit({k: (1.0 + math.log(c)) * idf[k] for k, c in f.items() if k in idf})

    def add_example(self, text: str, agent: str) -> None:
        """A user correction: joins the examples and the correction memory at once."""
        if agent not in AGENTS:
            raise ValueError(f"unknown agent {agent!r}; one of {', '.join(AGENTS)}")
        self._corrections[norm_key(text)] = (text, agent)
        self._apply_corrections()

    def set_corrections(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Replace all corrections at once (the last one per text wins)."""
        self._corrections = {norm_key(t): (t, a) for t, a in pairs if a in AGENTS}
        self._apply_corrections()

    def clear_corrections(self) -> None:
        self._corrections.clear()
        self._apply_corrections()

    @property
    def n_examples(self) -> int:
        return len(self._examples)

    @property
    def n_corrections(self) -> int:
        return len(self._corrections)

    # -- deciding -------------------------------------------------------------------------------
    entity_names: dict[str, str] = {}  # the user's names → kind word; set by the Router (entity_cues)

    def classify(self, text: str) -> FastResult:
        t0 = time.perf_counter()
        v = self._vec(features(entity_cues(text, self.entity_names)))
        scores = {a: sum(x * c.get(k, 0.0) for k, x in v.items()) for a, c in self._centroids.items()}
        top = max(scores.values())
        exps = {a: math.exp(SOFTMAX_SCALE * (s - top)) for a, s in scores.items()}
        z = sum(exps.values())
        probs = {a: e / z for a, e in exps.items()}
        agent = max(probs, key=probs.get)
        res = FastResult(agent, probs[agent], probs)
        if self._memory:
            vu = self._vec(features(text), unseen=True)
            sim, near = max(((sum(x * m.get(k, 0.0) for k, x in vu.items()), a) for m, a in self._memory),
                            key=lambda p: p[0])
            if sim >= CORRECTION_MATCH:
                res = FastResult(near, max(sim, probs[near]), probs, correction=True)
        res.ms = (time.perf_counter() - t0) * 1000.0
        return res


# -- a cheap guess at how big the work is ----------------------------------------------------------

LONG_CUES = ("analy", "compare", "comparison", "explain", "write", "draft", "summar", "report", "trend",
             "plan", "describe", "why", "essay", "story", "breakdown", "review", "forecast", "evaluate",
             "recommend", "pros and cons", "step by step", "in detail", "overview")
SHORT_CREATIVE = ("joke", "haiku", "riddle", "quote", "limerick", "fun fact", "synonym", "rhymes")
SEQUENCE_CUES = re.compile(r"\b(?:and then|then|after that|afterwards|and also|as well as)\b|;")


def estimate_task(text: str, agent: str) -> Task:
    """Complexity, steps and answer length from cue words; domain agents need tools (their data)."""
    words = normalize(text)
    low = " " + " ".join(words) + " "
    steps = 1 + len(SEQUENCE_CUES.findall(text.lower()))
    long_cue = any(c in low for c in LONG_CUES)
    short_creative = any(c in low for c in SHORT_CREATIVE)
    domain = agent in DOMAIN_AGENTS
    if long_cue and not short_creative:
        complexity = "high" if (steps > 1 or len(words) > 12 or domain) else "medium"
        tokens = 300
    elif steps > 1 or len(words) > 14:
        complexity, tokens = "medium", 120
    elif domain:
        complexity, tokens = "medium", 150     # a table or a few rows from a tool, then a sentence
    else:
        complexity, tokens = "low", 40 if short_creative else 30
    return Task(type="answer", domain=agent, requires_tools=domain, requires_planning=steps > 1,
                steps=steps, estimated_output_tokens=tokens, complexity=complexity)
