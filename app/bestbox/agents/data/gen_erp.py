"""ERP: vendors, products, warehouses, stock, two years of purchase orders, invoices."""
from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from .common import COUNTRIES, cumulative, company_name, d, weighted_index

# category -> (vendor name words, product nouns, unit, cost range EUR)
CATEGORIES: dict[str, tuple[list[str], list[str], str, tuple[float, float]]] = {
    "Raw materials": (["Metals", "Materials", "Alloys"], ["Steel sheet", "Aluminium bar", "Copper wire",
                      "Brass rod", "Stainless coil", "Zinc ingot"], "kg", (2, 40)),
    "Electronics": (["Electronics", "Components", "Semiconductors"], ["Capacitor kit", "Relay module",
                    "PCB assembly", "Sensor board", "Power supply", "Microcontroller"], "pcs", (3, 180)),
    "Packaging": (["Packaging", "Pack", "Containers"], ["Carton box", "Pallet wrap", "Foam insert",
                  "Shipping crate", "Label roll", "Bubble film"], "pcs", (0.5, 25)),
    "Chemicals": (["Chemicals", "Coatings", "Solutions"], ["Epoxy resin", "Solvent", "Lubricant",
                  "Powder coating", "Adhesive", "Cleaning agent"], "l", (4, 90)),
    "MRO": (["Industrial", "Supply", "Tools"], ["Bearing", "Drive belt", "Hydraulic hose", "Safety gloves",
            "Cutting disc", "Filter cartridge"], "pcs", (2, 120)),
    "IT hardware": (["Systems", "Computing", "Digital"], ["Laptop", "Monitor", "Docking station",
                    "Network switch", "SSD drive", "Headset"], "pcs", (40, 1800)),
    "Office supplies": (["Office", "Supplies", "Paper"], ["Copy paper", "Toner cartridge", "Notebook",
                        "Whiteboard marker", "Desk chair", "Filing box"], "pcs", (1, 350)),
    "Logistics": (["Logistics", "Freight", "Transport"], ["Freight LTL", "Express courier", "Container 20ft",
                  "Pallet storage", "Customs handling", "Last-mile delivery"], "job", (60, 2500)),
    "Services": (["Consulting", "Services", "Partners"], ["Maintenance visit", "Calibration service",
                 "Training day", "Audit service", "Cleaning contract", "Repair service"], "day", (150, 1600)),
}
SKU_PREFIX = {"Raw materials": "RAW", "Electronics": "ELE", "Packaging": "PAK", "Chemicals": "CHM", "MRO": "MRO",
              "IT hardware": "ITH", "Office supplies": "OFF", "Logistics": "LOG", "Services": "SRV"}
VARIANTS = ["S", "M", "L", "XL", "Pro", "Basic", "Plus", "HD", "Eco", "Max", "10", "20", "50", "100"]
WAREHOUSES = [("WH-BER", "Berlin Central", "Berlin", "Germany"), ("WH-RTM", "Rotterdam Port", "Rotterdam", "Netherlands"),
              ("WH-LYS", "Lyon South", "Lyon", "France"), ("WH-CHI", "Chicago Midwest", "Chicago", "United States"),
              ("WH-SZX", "Shenzhen Hub", "Shenzhen", "China")]
BUYERS = ["Maria Rossi", "Jonas Weber", "Chen Sato", "Petra Novak", "Liam Walsh", "Fatima Okafor"]


def generate(con: sqlite3.Connection, rng: random.Random, today: date, n_vendors=240, n_pos=5400) -> None:
    cats = list(CATEGORIES)
    # Vendors: Pareto-like spend weights, so a few vendors dominate spend as in real procurement.
    used: set[str] = set()
    vendors = []
    for vid in range(1, n_vendors + 1):
        cat = cats[vid % len(cats)] if vid <= len(cats) else rng.choice(cats)
        country = rng.choice(COUNTRIES)
        name = company_name(rng, used, CATEGORIES[cat][0], country)
        lead = rng.choice([3, 5, 7, 10, 14, 21, 28, 35, 45]) + (10 if country in ("China", "Japan", "India") else 0)
        vendors.append((vid, name, cat, country, round(rng.uniform(2.2, 5.0), 1), rng.choice([14, 30, 30, 45, 60]),
                        lead, f"orders@{name.split()[0].lower()}.example", 1 if rng.random() > 0.04 else 0))
    con.executemany("INSERT INTO vendors VALUES (?,?,?,?,?,?,?,?,?)", vendors)
    by_cat: dict[str, list[int]] = {c: [] for c in cats}
    for v in vendors:
        by_cat[v[2]].append(v[0])
    weight = {v[0]: rng.paretovariate(1.3) for v in vendors}

    products = []
    prod_by_cat: dict[str, list[tuple[int, float]]] = {c: [] for c in cats}
    pid = 0
    for cat in cats:
        nouns, unit, (lo, hi) = CATEGORIES[cat][1], CATEGORIES[cat][2], CATEGORIES[cat][3]
        for noun in nouns:
            for var in rng.sample(VARIANTS, 6):
                pid += 1
                cost = round(rng.uniform(lo, hi), 2)
                products.append((pid, f"{SKU_PREFIX[cat]}-{pid:05d}", f"{noun} {var}", cat, unit, cost,
                                 rng.choice(by_cat[cat])))
                prod_by_cat[cat].append((pid, cost))
    con.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?)", products)
    con.executemany("INSERT INTO warehouses VALUES (?,?,?,?,?)",
                    [(i + 1, *w) for i, w in enumerate(WAREHOUSES)])
    stock = []
    for p in products:
        for wid in sorted(rng.sample(range(1, len(WAREHOUSES) + 1), rng.randint(2, 4))):
            rp = rng.randint(20, 400)
            on_hand = int(rp * rng.uniform(0.1, 0.95)) if rng.random() < 0.14 else int(rp * rng.uniform(1.0, 4.0))
            stock.append((p[0], wid, on_hand, rp, rp * rng.randint(2, 4)))
    con.executemany("INSERT INTO stock VALUES (?,?,?,?,?)", stock)

    _orders(con, rng, today, vendors, weight, prod_by_cat, n_pos)


def _orders(con, rng, today, vendors, weight, prod_by_cat, n_pos) -> None:
    start = today - timedelta(days=730)
    vids = [v[0] for v in vendors if v[8]]
    cum = cumulative([weight[v] for v in vids])
    vinfo = {v[0]: v for v in vendors}
    pos, lines, invoices = [], [], []
    # Order dates: more orders over time (growth) and a quieter August / late December.
    day_cum = []
    for i in range(731):
        x = start + timedelta(days=i)
        w = (1.0 + 0.35 * i / 730) * (0.55 if x.month == 8 else 1.0) * (0.3 if x.month == 12 and x.day > 22 else 1.0)
        w *= 0.25 if x.weekday() >= 5 else 1.0
        day_cum.append(w + (day_cum[-1] if day_cum else 0.0))
    dates = sorted(start + timedelta(days=weighted_index(rng, day_cum)) for _ in range(n_pos))
    line_id = 0
    for po_id, od in enumerate(dates, 1):
        vid = vids[weighted_index(rng, cum)]
        v = vinfo[vid]
        cat, quoted, terms = v[2], v[6], v[5]
        total = 0.0
        for pid, cost in rng.sample(prod_by_cat[cat], rng.randint(1, 5)):
            line_id += 1
            qty = rng.choice([1, 2, 5, 10, 20, 25, 50, 100, 200, 500]) if cost < 200 else rng.randint(1, 12)
            price = round(cost * rng.uniform(0.9, 1.15), 2)
            amount = round(qty * price, 2)
            total += amount
            lines.append((line_id, po_id, pid, qty, price, amount))
        total = round(total, 2)
        expected = od + timedelta(days=quoted)
        actual = max(1, int(quoted * rng.uniform(0.7, 1.5) + rng.choice([0, 0, 0, 2, 5])))
        received = od + timedelta(days=actual)
        if rng.random() < 0.02:
            status, rec = "cancelled", None
        elif received <= today:
            status, rec = "received", d(received)
        else:
            status, rec = ("open" if (today - od).days < 2 else "sent"), None
        pos.append((po_id, f"PO-{od.year}-{po_id:05d}", vid, rng.randint(1, 5), d(od), d(expected), rec, status,
                    total, rng.choice(BUYERS)))
        if status in ("received", "sent") and (status == "received" or rng.random() < 0.3):
            inv_date = (received if rec else od + timedelta(days=rng.randint(1, 10)))
            if inv_date > today:
                continue
            due = inv_date + timedelta(days=terms)
            paid_amount, paid_date, st = 0.0, None, "unpaid"
            if due < today - timedelta(days=45) and rng.random() < 0.985 or due < today and rng.random() < 0.8:
                pd = min(today, due + timedelta(days=rng.randint(-10, 12)))
                paid_amount, paid_date, st = total, d(max(inv_date, pd)), "paid"
            elif rng.random() < 0.1:
                paid_amount, st = round(total * rng.choice([0.3, 0.5]), 2), "partial"
            elif rng.random() < 0.05:
                st = "disputed"
            invoices.append((len(invoices) + 1, f"INV-{inv_date.year}-{len(invoices) + 1:06d}", po_id, vid,
                             d(inv_date), d(due), total, paid_amount, paid_date, st))
    con.executemany("INSERT INTO purchase_orders VALUES (?,?,?,?,?,?,?,?,?,?)", pos)
    con.executemany("INSERT INTO po_lines VALUES (?,?,?,?,?,?)", lines)
    con.executemany("INSERT INTO invoices VALUES (?,?,?,?,?,?,?,?,?,?)", invoices)
