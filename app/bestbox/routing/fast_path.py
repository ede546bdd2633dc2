"""The local fast path: a small lexical classifier that needs no server.

TF-IDF over words, word bigrams and character 3–5-grams (the character n-grams absorb speech
recognition noise: "menders" still shares "nder", "ders" with "vendors") plus the kind of each
known name a request mentions (`entity_features`), fed to a multinomial logistic regression
(`linear.py`): per-feature weights learnt jointly, so a phrase decides where a shared word
("room", "laptop", "bill") would not. The softmax is temperature-scaled with the temperature fitted
on cross-validated predictions (`calibrate.py` → `data/calibration.json`), so `confidence` is the
measured probability of being right. Trained at first load from the shipped examples (a second or
two; cached on disk), decides in well under a millisecond. User corrections sit in a
nearest-neighbour memory: the corrected text, or a close variant, routes to the corrected agent at
once, and similar requests get a nudge towards it.

Also here: `estimate_task`, the cheap complexity / answer-length guess the tiering policy reads.
"""
from __future__ import annotations

import hashlib
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
CORRECTION_MATCH = 0.70     # cosine to a corrected text at which the correction decides outright
CORRECTION_NUDGE = 6.0      # logit added to a corrected agent per unit of cosine to its correction
NUDGE_FLOOR = 0.35          # below this cosine a correction does not nudge at all
ENTITY_WEIGHT = 1.0         # weight of a known name's kind word next to the text's own words
TEST_SHARE = 5              # 1 in 5 examples (by text hash) is held out for accuracy
MODEL_VERSION = 7           # bump when features() or the model changes (invalidates cache and calibration)
DATA_FILES = ("labelled.jsonl", "spoken_train.jsonl")   # the training pool; never spoken_heldout.jsonl


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


def load_examples(path: Path | None = None, split: str = "all") -> list[dict]:
    """The shipped training pool (DATA_FILES) or a JSONL file of {"text", "agent"}; split: train, test, all."""
    if path is None:
        data = resources.files("bestbox.routing").joinpath("data")
        text = "\n".join(data.joinpath(f).read_text(encoding="utf-8") for f in DATA_FILES)
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


# -- entities: the names the app knows -------------------------------------------------------------

def demo_entity_names() -> dict[str, str]:
    """The demo company's names that carry a domain: its meeting rooms, sales reps and buyers
    (from the generators' fixed lists; vendors and customers are random per database)."""
    from ..agents.data import gen_crm, gen_erp, gen_oa

    names = {norm_key(r[0]): "room" for r in gen_oa.ROOMS}
    names.update({norm_key(n): "deals" for n in gen_crm.REPS})
    names.update({norm_key(n): "purchase" for n in gen_erp.BUYERS})
    return names


def entity_features(text: str, names: dict[str, str]) -> Counter:
    """For each known name the text mentions (up to 4 words), the features of its kind word, as if
    it had been said ("wood corner" → "vendor": w:vendor and its character n-grams), and an entity
    feature e:vendor. `names`: {norm_key(name): kind word} — the demo's names, and the user's
    (vendor, customer, product, employee) once connected."""
    f: Counter = Counter()
    if not names:
        return f
    toks = normalize(text)
    for n in (4, 3, 2, 1):
        for i in range(len(toks) - n + 1):
            kind = names.get(" ".join(toks[i:i + n]))
            if kind and "e:" + kind not in f:
                f.update(features(kind))   # as if the kind word were said: its word and n-grams
                f["e:" + kind] = 1
    return f


@dataclass
class FastResult:
    agent: str
    confidence: float          # calibrated: the measured probability that `agent` is right
    scores: dict               # calibrated probability per agent
    correction: bool = False   # decided by a stored correction's text
    ms: float = 0.0


def _cache_file(key: str) -> Path:
    from .. import paths

    return paths.data_dir() / "cache" / f"fastpath-{key[:16]}.marshal"


def _cache_load(key: str):
    import numpy as np

    try:
        vocab_s, idf_b, unseen, w_b, b = marshal.loads(_cache_file(key).read_bytes())
        vocab = vocab_s.split("\x00")
        idf = np.frombuffer(idf_b, dtype=np.float64)
        W = np.frombuffer(w_b, dtype=np.float64).reshape(len(vocab), len(AGENTS))
        if len(idf) != len(vocab) or len(b) != len(AGENTS):
            return None
        return {k: i for i, k in enumerate(vocab)}, idf, unseen, W, np.asarray(b, dtype=np.float64)
    except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError):
        return None


def _cache_save(key: str, vocab: dict, idf, unseen: float, W, b) -> None:
    try:
        f = _cache_file(key)
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(f".{time.time_ns()}.tmp")
        tmp.write_bytes(marshal.dumps(("\x00".join(vocab), idf.tobytes(), unseen, W.tobytes(), [float(x) for x in b])))
        tmp.replace(f)
        olds = sorted(f.parent.glob("fastpath-*.marshal"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in olds[4:]:   # keep a few (shipped set, train split for eval, ...), drop stale ones
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only data dir only costs the cache


def _unit(v: dict) -> dict:
    n = math.sqrt(sum(x * x for x in v.values())) or 1.0
    return {k: x / n for k, x in v.items()}


def model_key(examples: Iterable[tuple[str, str]]) -> str:
    """What a trained model (and its calibration) is a function of."""
    return hashlib.sha1(json.dumps([MODEL_VERSION, list(examples)]).encode()).hexdigest()


class FastPath:
    """`FastPath.from_shipped(corrections)` → `.classify(text)` → FastResult.
    temperature: None → the shipped calibration's when it was fitted for this MODEL_VERSION, else 1."""

    def __init__(self, examples: Iterable[dict], corrections: Iterable[tuple[str, str]] = (),
                 *, temperature: float | None = None, demo_names: bool = True, cache: bool = True):
        self._examples = [(e["text"], e["agent"]) for e in examples]
        self._corrections: dict[str, tuple[str, str]] = {}   # norm text → (text, agent); last wins
        for text, agent in corrections:
            self._corrections[norm_key(text)] = (text, agent)
        self._demo_names = demo_entity_names() if demo_names else {}
        self.entity_names = {}
        self.key = model_key(self._examples)
        self._build(cache)
        if temperature is None:
            from .calibration import load_calibration

            cal = load_calibration()   # fitted on CV models of this version: fits any of its training subsets
            temperature = cal["temperature"] if cal and cal.get("model_version") == MODEL_VERSION else 1.0
        self.temperature = float(temperature)

    @property
    def entity_names(self) -> dict[str, str]:
        """The user's names → kind word ({norm_key(name): "vendor"}); set by whoever knows them.
        Merged with the demo's names once here, not on every classify()."""
        return self._user_names

    @entity_names.setter
    def entity_names(self, names: dict[str, str]) -> None:
        self._user_names = dict(names)
        self._names = {**self._demo_names, **self._user_names}

    @classmethod
    def from_shipped(cls, corrections: Iterable[tuple[str, str]] = (), split: str = "all") -> "FastPath":
        return cls(load_examples(split=split), corrections)

    # -- training -------------------------------------------------------------------------------
    def _build(self, cache: bool) -> None:
        import numpy as np

        t0 = time.perf_counter()
        cached = _cache_load(self.key + f"-{sys.version_info[:2]}") if cache else None
        if cached is None:
            from . import linear

            rows = [self._features(t) for t, _ in self._examples]
            df: Counter = Counter()
            for f in rows:
                df.update(f.keys())
            n = len(rows)
            vocab = {k: i for i, k in enumerate(df)}
            idf = np.array([math.log((1 + n) / (1 + d)) + 1.0 for d in df.values()])
            self._vocab, self._idf_list, self._unseen_idf = vocab, idf.tolist(), math.log(1 + n) + 1.0
            W, b = linear.train(*self._rows(rows), [AGENTS.index(a) for _, a in self._examples],
                                len(vocab), len(AGENTS))
            if cache:
                _cache_save(self.key + f"-{sys.version_info[:2]}", vocab, idf, self._unseen_idf, W, b)
        else:
            self._vocab, idf, self._unseen_idf, W, b = cached
            self._idf_list = idf.tolist()
        self._W, self._b = W, b
        self._apply_corrections()
        self.build_ms = (time.perf_counter() - t0) * 1000.0

    def _features(self, text: str) -> Counter:
        f = features(text)
        for k in entity_features(text, self._names):
            f[k] += ENTITY_WEIGHT
        return f

    def _sparse(self, f: Counter) -> tuple[list[int], list[float]]:
        """L2-normalised TF-IDF over the model's vocabulary (a weight below 1 is taken as is)."""
        vocab, idf = self._vocab, self._idf_list
        idx, val = [], []
        for k, c in f.items():
            i = vocab.get(k)
            if i is not None:
                idx.append(i)
                val.append((1.0 + math.log(c) if c >= 1 else c) * idf[i])
        n = math.sqrt(sum(x * x for x in val)) or 1.0
        return idx, [x / n for x in val]

    def _rows(self, feats: list[Counter]):
        indptr, idx, val = [0], [], []
        for f in feats:
            i, v = self._sparse(f)
            idx += i
            val += v
            indptr.append(len(idx))
        return indptr, idx, val

    def _apply_corrections(self) -> None:
        """The correction memory, built aside and swapped in (a concurrent classify() sees old or new)."""
        self._memory = [(self._vec_unseen(text), agent) for text, agent in self._corrections.values()]

    def _vec_unseen(self, text: str) -> dict:
        """TF-IDF that keeps features the shipped set lacks (a correction's own words count)."""
        vocab, idf, u = self._vocab, self._idf_list, self._unseen_idf
        return _unit({k: (1.0 + math.log(c)) * (idf[vocab[k]] if k in vocab else u)
                      for k, c in features(text).items()})

    def add_example(self, text: str, agent: str) -> None:
        """A user correction: joins the correction memory at once."""
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
    def logits(self, text: str) -> list[float]:
        """The model's raw scores per agent (AGENTS order), before corrections and temperature."""
        idx, val = self._sparse(self._features(text))
        z = self._b.copy()
        if idx:
            z += self._W[idx].T @ val
        return z.tolist()

    def classify(self, text: str) -> FastResult:
        t0 = time.perf_counter()
        z = self.logits(text)
        near, sim = None, 0.0
        if self._memory:
            vu = self._vec_unseen(text)
            best: dict[str, float] = {}
            for m, a in self._memory:
                s = sum(x * m.get(k, 0.0) for k, x in vu.items())
                best[a] = max(best.get(a, 0.0), s)
            for a, s in best.items():
                if s >= NUDGE_FLOOR:   # similar to a correction: lean towards its agent
                    z[AGENTS.index(a)] += CORRECTION_NUDGE * s
            near, sim = max(best.items(), key=lambda p: p[1])
        t = self.temperature
        top = max(z)
        exps = [math.exp((x - top) / t) for x in z]
        zsum = sum(exps)
        probs = {a: e / zsum for a, e in zip(AGENTS, exps)}
        agent = max(probs, key=probs.get)
        res = FastResult(agent, probs[agent], probs)
        if near is not None and sim >= CORRECTION_MATCH:
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
