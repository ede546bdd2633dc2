"""Shared vocabulary and small helpers for the demo-company generator (no external data)."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

FIRST = ["Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Karin",
         "Liam", "Maria", "Nils", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
         "Wei", "Xenia", "Yusuf", "Zoe", "Amir", "Brigitte", "Chen", "Dana", "Emil", "Fatima", "Georg",
         "Hana", "Ivan", "Julia", "Kenji", "Lena", "Marco", "Nora", "Omar", "Petra", "Raj", "Sofia",
         "Tomas", "Ula", "Viktor", "Wanda", "Yara", "Zeno"]
LAST = ["Schmidt", "Meyer", "Rossi", "Dubois", "Novak", "Jensen", "Garcia", "Kowalski", "Nakamura",
        "Okafor", "Larsen", "Silva", "Fischer", "Weber", "Moreau", "Costa", "Horvat", "Berg", "Wagner",
        "Patel", "Kim", "Lindqvist", "Brennan", "Ortega", "Hoffmann", "Yilmaz", "Andersen", "Keller",
        "Bauer", "Romano", "Svoboda", "Nieminen", "Haas", "Lopez", "Walsh", "Ivanova", "Sato", "Murphy"]
COUNTRIES = ["Germany", "Netherlands", "France", "Italy", "Poland", "Spain", "Sweden", "United Kingdom",
             "United States", "China", "Japan", "Czechia", "Austria", "Denmark", "India", "Turkey"]
CITIES = {"Germany": ["Berlin", "Hamburg", "Munich", "Stuttgart"], "Netherlands": ["Rotterdam", "Eindhoven"],
          "France": ["Lyon", "Paris", "Toulouse"], "Italy": ["Milan", "Turin"], "Poland": ["Wroclaw", "Poznan"],
          "Spain": ["Madrid", "Valencia"], "Sweden": ["Gothenburg", "Malmo"],
          "United Kingdom": ["Manchester", "Leeds"], "United States": ["Chicago", "Houston", "Atlanta"],
          "China": ["Shenzhen", "Suzhou"], "Japan": ["Osaka", "Nagoya"], "Czechia": ["Brno"],
          "Austria": ["Linz"], "Denmark": ["Aarhus"], "India": ["Pune", "Chennai"], "Turkey": ["Izmir"]}
SUFFIX = {"Germany": "GmbH", "Netherlands": "B.V.", "France": "SAS", "Italy": "S.p.A.", "Poland": "Sp. z o.o.",
          "Spain": "S.L.", "Sweden": "AB", "United Kingdom": "Ltd", "United States": "Inc.", "China": "Co., Ltd.",
          "Japan": "K.K.", "Czechia": "s.r.o.", "Austria": "GmbH", "Denmark": "A/S", "India": "Pvt Ltd",
          "Turkey": "A.S."}
SYL_A = ["Nor", "Alt", "Bel", "Cor", "Del", "Ever", "Fal", "Gran", "Hel", "Ist", "Kin", "Lum", "Mar", "Nex",
         "Or", "Pol", "Quan", "Riv", "Sol", "Tor", "Ul", "Ver", "Wes", "Zen", "Ast", "Brix", "Cal", "Dura"]
SYL_B = ["dex", "tec", "mont", "ström", "bridge", "field", "ware", "line", "tronic", "flex", "pak", "chem",
         "mark", "stone", "vale", "point", "worth", "gate", "dyne", "form", "wood", "core", "lab", "max"]


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def company_name(rng: random.Random, used: set[str], words: list[str], country: str) -> str:
    while True:
        base = rng.choice(SYL_A) + rng.choice(SYL_B)
        name = f"{base} {rng.choice(words)} {SUFFIX[country]}" if rng.random() < 0.6 else f"{base} {SUFFIX[country]}"
        if name not in used:
            used.add(name)
            return name


def d(x: date) -> str:
    return x.isoformat()


def dt(x: datetime) -> str:
    return x.strftime("%Y-%m-%d %H:%M")


def weighted_index(rng: random.Random, cum: list[float]) -> int:
    """Index into a cumulative weight list (bisect)."""
    import bisect

    return min(bisect.bisect_left(cum, rng.random() * cum[-1]), len(cum) - 1)


def cumulative(weights: list[float]) -> list[float]:
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


def days_between(a: date, b: date) -> int:
    return (b - a).days


def add_days(x: date, n: int) -> date:
    return x + timedelta(days=n)
