"""CRM: customers, contacts, opportunities, activities, complaints."""
from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta

from .common import CITIES, COUNTRIES, company_name, d, dt, person

INDUSTRIES = {"Automotive": ["Motors", "Automotive", "Mobility"], "Retail": ["Retail", "Stores", "Market"],
              "Healthcare": ["Health", "Medical", "Care"], "Energy": ["Energy", "Power", "Renewables"],
              "Logistics": ["Logistics", "Shipping", "Cargo"], "Food & Beverage": ["Foods", "Beverages", "Kitchen"],
              "Construction": ["Construction", "Build", "Structures"], "Technology": ["Software", "Tech", "Data"],
              "Finance": ["Capital", "Finance", "Bank"], "Public sector": ["Municipal", "Services", "Agency"]}
REPS = ["Sofia Berg", "Marco Costa", "Hana Kim", "Georg Bauer", "Yara Silva", "Nils Jensen", "Dana Walsh"]
TITLES = ["Head of Procurement", "CFO", "Operations Manager", "IT Director", "Purchasing Lead", "CEO",
          "Plant Manager", "Facilities Manager"]
STAGE_PROB = {"prospecting": 10, "qualification": 25, "proposal": 50, "negotiation": 75, "closed_won": 100,
              "closed_lost": 0}
DEAL = ["Line upgrade", "Annual supply contract", "Service renewal", "Pilot project", "Expansion", "Retrofit",
        "Framework agreement", "Spare parts package", "Maintenance plan", "Rollout phase 2"]
COMPLAINT = {"Delivery": ["Shipment arrived {n} days late", "Wrong quantity delivered", "Pallet damaged in transit"],
             "Quality": ["Batch failed incoming inspection", "Units stopped working after {n} weeks",
                         "Finish does not match specification"],
             "Billing": ["Invoice shows wrong discount", "Charged twice for order", "Credit note missing"],
             "Service": ["Technician did not show up", "Support ticket unanswered for {n} days",
                         "Onsite repair incomplete"]}
CALL_TOPICS = ["Quarterly review", "Pricing question", "Follow-up on proposal", "Delivery status", "Renewal talk",
               "Technical clarification", "Introductory call", "Escalation"]


def generate(con: sqlite3.Connection, rng: random.Random, today: date, n_customers=330, n_opps=900) -> None:
    used: set[str] = set()
    customers, contacts = [], []
    for cid in range(1, n_customers + 1):
        ind = rng.choice(list(INDUSTRIES))
        country = rng.choice(COUNTRIES)
        seg = rng.choices(["enterprise", "mid-market", "smb"], [2, 4, 5])[0]
        rev = {"enterprise": 5e8, "mid-market": 5e7, "smb": 5e6}[seg] * rng.uniform(0.2, 3)
        customers.append((cid, company_name(rng, used, INDUSTRIES[ind], country), ind, country,
                          rng.choice(CITIES[country]), seg, rng.choice(REPS), round(rev, -3),
                          d(today - timedelta(days=rng.randint(60, 2500)))))
        dom = customers[-1][1].split()[0].lower().replace("ö", "o")
        for _ in range(rng.randint(2, 4)):
            name = person(rng)
            contacts.append((len(contacts) + 1, cid, name, rng.choice(TITLES),
                             f"{name.split()[0].lower()}.{name.split()[1].lower()}@{dom}.example",
                             f"+{rng.randint(1, 90)} {rng.randint(100, 999)} {rng.randint(100000, 9999999)}"))
    con.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?)", customers)
    con.executemany("INSERT INTO contacts VALUES (?,?,?,?,?,?)", contacts)
    contacts_of: dict[int, list[int]] = {}
    for c in contacts:
        contacts_of.setdefault(c[1], []).append(c[0])

    opps = []
    for oid in range(1, n_opps + 1):
        c = rng.choice(customers)
        created = today - timedelta(days=rng.randint(0, 700))
        close = created + timedelta(days=rng.randint(20, 200))
        if close <= today:
            stage = "closed_won" if rng.random() < 0.42 else "closed_lost"
        else:
            stage = rng.choices(["prospecting", "qualification", "proposal", "negotiation"], [3, 3, 2, 1.5])[0]
        base = {"enterprise": 250_000, "mid-market": 60_000, "smb": 12_000}[c[5]]
        amount = round(base * rng.lognormvariate(0, 0.6), -2)
        opps.append((oid, c[0], f"{c[1].split()[0]} – {rng.choice(DEAL)}", stage, amount, STAGE_PROB[stage],
                     d(close), c[6], d(created)))
    con.executemany("INSERT INTO opportunities VALUES (?,?,?,?,?,?,?,?,?)", opps)

    acts = []
    for _ in range(3200):
        c = rng.choice(customers)
        kind = rng.choices(["call", "email", "meeting", "note"], [4, 4, 2, 1])[0]
        when = datetime.combine(today, datetime.min.time()) - timedelta(days=rng.randint(0, 540),
                                                                         minutes=rng.randint(0, 600) - 9 * 60)
        topic = rng.choice(CALL_TOPICS)
        acts.append((len(acts) + 1, c[0], rng.choice(contacts_of[c[0]]), kind, topic,
                     f"{topic} with {c[1]}; next step agreed.", dt(when), c[6]))
    con.executemany("INSERT INTO activities VALUES (?,?,?,?,?,?,?,?)", acts)

    comps = []
    for _ in range(180):
        c = rng.choice(customers)
        cat = rng.choice(list(COMPLAINT))
        opened = today - timedelta(days=rng.randint(0, 300))
        age = (today - opened).days
        status = rng.choice(["open", "in_progress"]) if age < 21 and rng.random() < 0.8 else \
            rng.choices(["open", "in_progress", "resolved", "closed"], [1, 1, 4, 4])[0]
        resolved = d(opened + timedelta(days=rng.randint(1, max(1, min(age, 30))))) \
            if status in ("resolved", "closed") else None
        comps.append((len(comps) + 1, c[0], d(opened), rng.choices(["low", "medium", "high", "critical"], [4, 4, 2, 1])[0],
                      cat, status, rng.choice(COMPLAINT[cat]).format(n=rng.randint(2, 9)), resolved))
    con.executemany("INSERT INTO complaints VALUES (?,?,?,?,?,?,?,?)", comps)
