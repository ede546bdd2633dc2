"""Tool arguments as people say them: "tomorrow at ten", "next Friday", "today 10:00", "five".

Dates and times go through `dateparser` (relative days, weekdays, "in 3 days", many formats); the
small layer here turns number words into digits first ("at ten" → "at 10:00"), because dateparser
reads "tomorrow at ten" and even "tomorrow at 10" as tomorrow at the current time.
Every parser raises ValueError with a message the model (and then the form) can act on.
"""
from __future__ import annotations

import re
from datetime import date, datetime

from . import base

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_WORDS = {w: i for i, w in enumerate(_UNITS)} | _TENS | {"a dozen": 12, "dozen": 12, "a couple": 2, "couple": 2}
NUMBER_WORD = r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|" \
              r"a dozen|dozen|a couple|couple|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"
DAY_HELP = "today, tomorrow, a weekday like next Friday, or a date like 2026-03-14"
TIME_HELP = "a time like 14:00, 2pm or ten"


def number_from_words(text: str) -> int | None:
    """"five" → 5, "twenty-one" → 21, "12" → 12; None when `text` is not one number."""
    t = " ".join(str(text).strip().lower().replace("-", " ").split())
    if re.fullmatch(r"\d{1,6}", t):
        return int(t)
    if t in _WORDS:
        return _WORDS[t]
    parts = t.split()
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _WORDS and _WORDS[parts[1]] < 10:
        return _TENS[parts[0]] + _WORDS[parts[1]]
    return None


def _digits(text: str) -> str:
    """Number words → digits, and a bare hour after "at" → a clock time ("at ten" → "at 10:00")."""
    t = re.sub(rf"\b{NUMBER_WORD}\b", lambda m: str(number_from_words(m.group(0))), text.lower())
    t = re.sub(r"\bat (\d{1,2})(?![\d:])(?!\s*(?:am|pm|a\.m|p\.m))", r"at \1:00", t)
    t = re.sub(r"\b(\d{1,2}) o'?clock\b", r"\1:00", t)
    return t


def parse_when(text: str, ref: datetime | None = None) -> datetime | None:
    """A date and/or time phrase → datetime (future preferred), or None when it cannot be read."""
    import dateparser

    ref = ref or datetime.combine(base.today(), datetime.now().time().replace(second=0, microsecond=0))
    settings = {"RELATIVE_BASE": ref, "PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}
    t = _digits(str(text).strip())
    if not t:
        return None
    return dateparser.parse(t, languages=["en"], settings=settings)


def _has_time(text: str) -> bool:
    t = _digits(text)
    return bool(re.search(r"\d{1,2}:\d{2}|\d\s*(?:am|pm)\b|\bnoon\b|\bmidnight\b", t))


def _has_day(text: str) -> bool:
    t = _digits(text)
    t = re.sub(r"\d{1,2}:\d{2}|\d{1,2}\s*(?:am|pm)\b|\bat\b", " ", t)
    return bool(t.strip(" ,")) and parse_when(t) is not None


def parse_day(text: str) -> str:
    """"tomorrow", "next Friday", "today 10:00", "3 March", "2026-03-14" → "YYYY-MM-DD"."""
    t = str(text).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        try:
            return date.fromisoformat(t).isoformat()
        except ValueError:
            raise ValueError(f"'{t}' is not a real date; use {DAY_HELP}") from None
    d = parse_when(t) if t else None
    if d is None:
        raise ValueError(f"cannot read '{t[:40]}' as a day; use {DAY_HELP}")
    return d.date().isoformat()


def parse_clock(text: str) -> str:
    """"10:00", "10am", "ten", "at ten", "tomorrow at 10:00" → "HH:MM"."""
    t = _digits(str(text).strip())
    m = re.fullmatch(r"(?:at )?(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", t)
    if m:
        h, mi, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "")[:1]
        if half == "p" and h < 12:
            h += 12
        if half == "a" and h == 12:
            h = 0
        if 0 <= h < 24 and 0 <= mi < 60:
            return f"{h:02d}:{mi:02d}"
        raise ValueError(f"'{text}' is not a time of day; use {TIME_HELP}")
    d = parse_when(t) if _has_time(t) else None
    if d is None:
        raise ValueError(f"cannot read '{str(text)[:40]}' as a time; use {TIME_HELP}")
    return d.strftime("%H:%M")


def split_when(text: str) -> tuple[str | None, str | None]:
    """A phrase with a day and a time ("tomorrow at ten") → (day or None, time or None)."""
    t = str(text).strip()
    if not t:
        return None, None
    day = parse_day(t) if _has_day(t) else None
    clock = parse_clock(t) if _has_time(t) else None
    return day, clock


def count(value):
    """For integer arguments: "five" → 5, "5" → 5; anything else is left for pydantic to judge."""
    if isinstance(value, str):
        n = number_from_words(value)
        if n is not None:
            return n
    return value


def parse_minutes(text: str):
    """"one hour", "1h", "90 minutes", "half an hour", "an hour and a half", "60" → minutes."""
    t = _digits(" ".join(str(text).lower().split()))
    t = re.sub(r"\b(?:an?|1) hour and a half\b|\b1\.5 ?h(?:ours?)?\b", "90 minutes", t)
    t = re.sub(r"\bhalf an hour\b", "30 minutes", t)
    t = re.sub(r"\ban? hour\b", "1 hour", t)
    t = re.sub(r"^for ", "", t)
    m = re.fullmatch(r"(\d{1,4})(?: ?(h|hrs?|hours?|m|mins?|minutes?))?", t)
    if m:
        n = int(m.group(1))
        return n * 60 if (m.group(2) or "").startswith("h") else n
    m = re.fullmatch(r"(\d{1,2}) ?(?:h|hours?) (?:and )?(\d{1,2}) ?(?:m|mins?|minutes?)", t)
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    return text   # pydantic says it is not a number of minutes
