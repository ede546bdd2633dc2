"""One glossary of domain words, for Whisper and for the cleanup model.

Built-in office terms + names from the database the tools read (the demo company, or the snapshot
of the user's own records: vendors, customers, products, employees; read-only, cheap) + the user's
`speech.glossary_extra`. Whisper gets ~10 terms (long lists help less, and a bare comma list made
tiny.en drop the start of an utterance in our tests, so they go in as a short sentence); the cleanup
model gets the whole list.
"""
from __future__ import annotations

import difflib
import logging
import re
import sqlite3
from pathlib import Path

from ..config import Config

log = logging.getLogger(__name__)

# Ordered by how often office requests use them; the first ones are Whisper's default hint.
BUILTIN_TERMS = [
    "vendors", "invoices", "purchase order", "procurement", "requisition", "CRM", "pipeline", "VPN",
    "ticket", "leave balance", "meeting room", "backup", "incident", "customers", "suppliers",
    "quotation", "budget", "expense report", "approval", "payroll", "deal", "opportunity", "lead",
    "account manager", "inventory", "stock", "shipment", "reimbursement", "overdue", "unpaid",
    "password reset", "laptop", "printer", "server", "outage", "helpdesk", "onboarding", "timesheet",
    "holiday", "sick leave", "calendar", "conference call", "ERP", "SKU", "net 30", "accounts payable",
    "accounts receivable", "quarterly revenue",
]

_NAME_TABLE = re.compile(r"(vendor|supplier|customer|client|compan|account|employee|department|product)", re.I)
_NAME_COLS = ("name", "company", "company_name", "vendor_name", "customer_name", "full_name", "title")


def _db_path(config: Config | None) -> Path | None:
    """The database the tools read: the user's file, the snapshot of their records, or the demo."""
    from ..agents.data import database_path

    try:
        p, _ = database_path(config)
    except Exception:
        return None
    return p if p.exists() else None


def names_from_database(db: Path, limit_per_table: int = 100) -> list[str]:
    """Vendor/customer (and similar) names, read-only, tolerant of whatever schema is there."""
    out: list[str] = []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)
    except sqlite3.Error:
        return out
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            if not _NAME_TABLE.search(t):
                continue
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')]
            col = next((c for c in _NAME_COLS if c in cols), None)
            if col is None:
                continue
            for (v,) in con.execute(f'SELECT DISTINCT "{col}" FROM "{t}" WHERE "{col}" IS NOT NULL LIMIT ?',
                                    (limit_per_table,)):
                s = str(v).strip()
                if 2 <= len(s) <= 60:
                    out.append(s)
    except sqlite3.Error as e:
        log.debug("glossary: cannot read %s: %s", db, e)
    finally:
        con.close()
    return out


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", s.lower())


def _closeness(word: str, hint: set[str], floor: float) -> float:
    """How close `word` is to the nearest hint word (difflib's ratio, 1.0 = the same word); 0.0
    where no hint word reaches `floor` (the cheap upper bounds rule most pairs out first)."""
    if word in hint:
        return 1.0
    best = 0.0
    sm = None
    lw = len(word)
    for h in hint:
        lh = len(h)
        lo = max(best, floor)
        # 2·min/(sum) is difflib's real_quick_ratio, without building a matcher
        if lh < 3 or abs(lh - lw) > 3 or 2 * min(lh, lw) / (lh + lw) < lo:
            continue
        if sm is None:
            sm = difflib.SequenceMatcher(None, "", word)  # indexes `word` once (seq2)
        sm.set_seq1(h)
        if sm.quick_ratio() >= lo:
            best = max(best, sm.ratio())
    return best if best >= floor else 0.0


class Glossary:
    def __init__(self, terms: list[str] | None = None, *, extra: list[str] | None = None,
                 names: list[str] | None = None):
        seen: set[str] = set()
        self.extra = self._dedup(extra or [], seen)
        self.builtin = self._dedup(terms if terms is not None else BUILTIN_TERMS, seen)
        self.names = self._dedup(names or [], seen)
        # Names from the user's own records (not the demo's): some go into Whisper's first hint too.
        self.own_names = False

    @staticmethod
    def _dedup(items: list[str], seen: set[str]) -> list[str]:
        out = []
        for t in items:
            t = " ".join(str(t).split())
            k = t.lower()
            if t and k not in seen:
                seen.add(k)
                out.append(t)
        return out

    @classmethod
    def from_config(cls, config: Config | None = None, *, with_database: bool = True) -> "Glossary":
        extra = list(config.speech.glossary_extra) if config is not None else []
        names: list[str] = []
        db = _db_path(config) if with_database else None
        if db is not None:
            names = names_from_database(db)
        g = cls(extra=extra, names=names)
        data = getattr(config, "data", None)
        g.own_names = bool(names) and bool(data is not None and (data.source or data.database))
        return g

    def all_terms(self) -> list[str]:
        return self.extra + self.builtin + self.names

    def for_cleanup(self, text: str | None = None, max_names: int = 30) -> list[str]:
        """What the cleanup model sees: every office term and the user's own words, plus the names
        from the company data that the transcript may mean. All names (hundreds of vendors and
        customers) would overflow the light server's per-slot context (2,048 tokens by default),
        so names are chosen by closeness to the transcript's words, at most `max_names`."""
        base = self.extra + self.builtin
        if not self.names:
            return base
        if text:
            names = [t for t in self.for_whisper(text, n=max_names, pool=self.names, fill=False)]
        else:
            names = self.names[:max_names]
        return base + names

    def for_whisper(self, text_hint: str | None = None, n: int = 10, *, pool: list[str] | None = None,
                    fill: bool = True) -> list[str]:
        """~n most relevant terms. Without a hint: the user's own terms, then the most common office
        terms. With a hint (earlier transcript, conversation so far): terms whose words match or
        nearly match the hint's words come first ("menders" → "vendors")."""
        terms = self.all_terms() if pool is None else pool
        if not text_hint:
            if not fill:
                return []
            # A user's own company names are what Whisper cannot guess ("Wood Corner" came back as
            # "world corner" without them): half the first hint, after their own words.
            own = self.names[: n // 2] if self.own_names and pool is None else []
            return (self.extra + self.builtin)[: n - len(own)] + own
        hint = set(_words(text_hint))
        extra = set(self.extra)
        # Score each distinct word once (names repeat "GmbH", "Ltd"…), and only as closely as can
        # change the outcome: a term is kept from 0.7, a user's own term (+0.3) from 0.4. This runs
        # on the UI loop during a voice turn: 20–70 ms per name-by-name pass before, 3–7 ms now.
        words = {t: _words(t) for t in terms}
        floors: dict[str, float] = {}
        for t, tw in words.items():
            f = 0.4 if t in extra else 0.7
            for w in tw:
                floors[w] = min(floors.get(w, 1.0), f)
        close = {w: _closeness(w, hint, f) for w, f in floors.items()}
        scored = []
        for i, t in enumerate(terms):
            tw = words[t]
            if not tw:
                continue
            best = max(close[w] for w in tw)
            base = 0.3 if t in extra else 0.0
            scored.append((best + base - i * 1e-4, t))
        scored.sort(reverse=True)
        relevant = [t for s, t in scored if s >= 0.7][:n]
        for t in (self.extra + self.builtin) if fill else []:  # fill with the defaults
            if len(relevant) >= n:
                break
            if t not in relevant:
                relevant.append(t)
        return relevant

    @staticmethod
    def whisper_prompt(terms: list[str]) -> str:
        """A short sentence: tiny.en follows it better than a bare list (see module doc)."""
        if not terms:
            return ""
        body = ", ".join(terms[:-1]) + (f" and {terms[-1]}" if len(terms) > 1 else terms[0])
        return f"Office requests about {body}."

    def near_misses(self, text: str, threshold: float = 0.7) -> list[tuple[str, str]]:
        """(heard word, glossary word) pairs where a word is close to, but not, a single-word
        term: a sign Whisper misheard a domain word and cleanup should run before answering."""
        single = {t.lower() for t in self.all_terms() if " " not in t and len(t) >= 4}
        out = []
        for w in set(_words(text)):
            if len(w) < 4 or w in single:
                continue
            for t in single:
                if abs(len(t) - len(w)) <= 2 and difflib.SequenceMatcher(None, w, t).ratio() >= threshold:
                    out.append((w, t))
                    break
        return out
