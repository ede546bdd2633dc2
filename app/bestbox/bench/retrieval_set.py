"""A labelled retrieval set the project writes itself: the documents of a fictional small firm
(Fjordline Outdoor, not the demo company) in every supported format, and questions labelled with
the file (and page) that answers them. Half the questions reuse the document's words; the other
half paraphrase them, which is where embeddings should help keyword search.

Also: `write_scale_corpus`, a generated corpus of many files for the indexing-rate and latency bench.
"""
from __future__ import annotations

import random
from pathlib import Path

from . import doc_files

PDF_PAGES = {
    "handbook/employee-handbook.pdf": [
        "Fjordline Outdoor Employee Handbook\nWorking hours are 08:00 to 16:30, Monday to Friday.\n"
        "Core hours, when everyone must be reachable, are 10:00 to 14:00.",
        "Annual leave\nEvery employee receives 27 days of paid annual leave per calendar year.\n"
        "Unused leave of up to 5 days may be carried over to the end of March.",
        "Sick leave\nReport sickness to your team lead before 09:00 on the first day.\n"
        "A doctor's certificate is required from the fourth day of absence.",
    ],
    "it/laptop-policy.pdf": [
        "Laptop refresh policy\nLaptops are replaced every four years, or earlier when repair costs exceed 40 percent\n"
        "of a new device.",
        "Lost or stolen equipment\nReport a lost laptop to the IT helpdesk within 24 hours so the disk can be\n"
        "remotely wiped. File a police report for theft.",
    ],
}
TEXT_FILES = {
    "travel/travel-policy.md": "# Travel policy\n\nHotel costs are reimbursed up to 140 EUR per night in Europe and "
    "190 EUR per night in North America.\n\nEconomy class is mandatory for flights under six hours; business class "
    "needs approval from a director.\n\n## Mileage\n\nPrivate car use is paid at 0.32 EUR per kilometre.",
    "travel/per-diem.txt": "Per diem rates. Meals during business trips are covered by a daily allowance of 45 EUR "
    "in Norway and 38 EUR in other European countries. Breakfast included in the hotel price reduces the allowance "
    "by 20 percent.",
    "safety/warehouse-safety.html": "<html><head><title>Warehouse safety</title><style>p{}</style></head><body>"
    "<h1>Warehouse safety rules</h1><p>Safety shoes and a high-visibility vest are required on the warehouse floor."
    "</p><p>Forklifts may only be driven by staff holding a valid forklift licence; the licence is renewed every "
    "five years.</p><p>In case of fire, leave by the nearest exit and gather at the assembly point by the north "
    "gate.</p></body></html>",
    "customers/returns.md": "# Returns and warranty\n\nCustomers may return unused products within 60 days with the "
    "receipt.\n\nTents and backpacks carry a lifetime warranty against manufacturing defects; stoves and electronics "
    "carry two years.\n\nRefunds go back to the original payment method within 10 business days.",
    "it/wifi.txt": "Guest wireless network: the network name is FJORD-GUEST and the password changes every Monday; "
    "reception prints the week's password on request. Staff devices use FJORD-STAFF with their own login.",
    "facilities/parking.html": "<html><body><h2>Parking and commuting</h2><p>Employees may park in the P2 garage "
    "at no charge. Bicycle storage with charging for e-bikes is next to the loading dock.</p><p>A public transport "
    "season ticket is subsidised by 50 percent.</p></body></html>",
}
DOCX = {
    "finance/expense-claims.docx": (["Expense claims", "Submit expense claims within 30 days of the purchase, with a "
                                     "photo of every receipt.", "Claims above 1000 EUR need the approval of the "
                                     "finance manager before they are paid."],
                                    [["Claim type", "Approver"], ["Under 1000 EUR", "Team lead"],
                                     ["1000 EUR and above", "Finance manager"]]),
}
ODT = {
    "handbook/onboarding.odt": (["Onboarding checklist", "On the first day new hires receive a building badge, a "
                                 "laptop and a welcome lunch with their team.", "Within the first month everyone "
                                 "completes the data protection course online."], None),
}
TABLES = {
    "sales/price-list.csv": [["SKU", "Product", "Price EUR"], ["TNT-2", "Trail tent two person", "349"],
                             ["BPK-45", "Hiking backpack 45 litre", "189"], ["STV-1", "Compact gas stove", "79"],
                             ["SLB-0", "Down sleeping bag zero degrees", "299"]],
}
XLSX = {
    "sales/suppliers.xlsx": {"Suppliers": [["Supplier", "Country", "Lead time days", "Contact"],
                                           ["Nordtex AS", "Norway", 14, "anna@nordtex.example"],
                                           ["Baltic Gear", "Latvia", 21, "sales@balticgear.example"],
                                           ["Alpen Kocher GmbH", "Austria", 30, "info@alpenkocher.example"]]},
}

# (question, file, page or None, kind): kind "lexical" shares key words with the passage, "paraphrase" does not.
QUESTIONS = [
    ("How many days of paid annual leave do employees get?", "handbook/employee-handbook.pdf", 2, "lexical"),
    ("How much holiday can I take off in a year?", "handbook/employee-handbook.pdf", 2, "paraphrase"),
    ("When do I need a doctor's certificate for sick leave?", "handbook/employee-handbook.pdf", 3, "lexical"),
    ("I'm ill, who do I tell and by what time?", "handbook/employee-handbook.pdf", 3, "paraphrase"),
    ("What are the core hours?", "handbook/employee-handbook.pdf", 1, "lexical"),
    ("How often are laptops replaced?", "it/laptop-policy.pdf", 1, "lexical"),
    ("When will I get a new computer?", "it/laptop-policy.pdf", 1, "paraphrase"),
    ("What should I do if my notebook was stolen?", "it/laptop-policy.pdf", 2, "paraphrase"),
    ("Hotel cost limit per night in North America", "travel/travel-policy.md", None, "lexical"),
    ("Can I fly business class?", "travel/travel-policy.md", None, "lexical"),
    ("How much is paid per kilometre for using my own car?", "travel/travel-policy.md", None, "lexical"),
    ("What is the daily meal allowance in Norway?", "travel/per-diem.txt", None, "lexical"),
    ("How much money do I get for food when travelling?", "travel/per-diem.txt", None, "paraphrase"),
    ("Who may drive a forklift?", "safety/warehouse-safety.html", None, "lexical"),
    ("What protective clothing is needed in the storage hall?", "safety/warehouse-safety.html", None, "paraphrase"),
    ("Where do we meet if the building is burning?", "safety/warehouse-safety.html", None, "paraphrase"),
    ("How long is the warranty on tents?", "customers/returns.md", None, "lexical"),
    ("Can a customer bring back a product they bought last month?", "customers/returns.md", None, "paraphrase"),
    ("What is the guest wifi password?", "it/wifi.txt", None, "lexical"),
    ("How do visitors get on the internet?", "it/wifi.txt", None, "paraphrase"),
    ("Is parking free for employees?", "facilities/parking.html", None, "lexical"),
    ("Does the company help pay for my bus pass?", "facilities/parking.html", None, "paraphrase"),
    ("Who approves expense claims above 1000 EUR?", "finance/expense-claims.docx", None, "lexical"),
    ("How do I get reimbursed for something I bought for work?", "finance/expense-claims.docx", None, "paraphrase"),
    ("What does a new hire receive on the first day?", "handbook/onboarding.odt", None, "lexical"),
    ("Which training must newcomers finish in their first month?", "handbook/onboarding.odt", None, "paraphrase"),
    ("What is the price of the hiking backpack 45 litre?", "sales/price-list.csv", None, "lexical"),
    ("How much does the two person tent cost?", "sales/price-list.csv", None, "lexical"),
    ("What is the lead time of Baltic Gear?", "sales/suppliers.xlsx", None, "lexical"),
    ("Which vendor is based in Austria?", "sales/suppliers.xlsx", None, "paraphrase"),
]
# Questions these documents do not answer: the answer must say so.
UNANSWERABLE = ["What is the company's policy on bringing dogs to the office?",
                "Who won the football world cup in 1994?"]


def write_set(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, pages in PDF_PAGES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        doc_files.write_pdf(root / rel, pages)
    for rel, text in TEXT_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for rel, (paras, table) in DOCX.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        doc_files.write_docx(root / rel, paras, table)
    for rel, (paras, table) in ODT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        doc_files.write_odt(root / rel, paras, table)
    for rel, rows in TABLES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    for rel, sheets in XLSX.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        doc_files.write_xlsx(root / rel, sheets)
    return root


_WORDS = ("account approval budget contract customer delivery department employee equipment invoice meeting "
          "order payment policy product project quarter report request review schedule service shipment "
          "supplier support team training travel vendor warehouse warranty ledger audit forecast inventory "
          "procurement compliance onboarding maintenance facility insurance pricing revenue margin").split()


def scale_vocabulary(size: int = 30000, seed: int = 7) -> list[str]:
    """Pronounceable made-up words; text drawn from them by a Zipf law (s≈1), as natural text is,
    so a query word matches a realistic share of passages, not half of them."""
    rng = random.Random(seed)
    syl = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    words = list(dict.fromkeys(_WORDS + ["".join(rng.choice(syl) for _ in range(rng.randint(2, 4)))
                                         for _ in range(size)]))
    return words[:size]


def write_scale_corpus(root: Path, n_files: int, total_mb: float, seed: int = 7) -> tuple[int, int]:
    """n_files text/Markdown/CSV/HTML files adding up to about total_mb; returns (files, bytes)."""
    import itertools

    rng = random.Random(seed)
    per_file = int(total_mb * 1e6 / n_files)
    words = scale_vocabulary()
    cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(words))))

    def pick(k: int) -> list[str]:
        return rng.choices(words, cum_weights=cum, k=k)

    total = 0
    for i in range(n_files):
        d = root / f"dept{i % 20:02d}" / f"year{2015 + i % 10}"
        d.mkdir(parents=True, exist_ok=True)
        kind = ("md", "txt", "html", "csv")[i % 4]
        if kind == "csv":
            lines, size = ["id,item,amount,status"], 0
            while size < per_file:
                a, b = pick(2)
                lines.append(f"{len(lines)},{a} {b},{rng.randint(1, 9999)},{rng.choice(('open', 'paid', 'late'))}")
                size += len(lines[-1]) + 1
            body = "\n".join(lines)
        else:
            paras, size = [], 0
            while size < per_file:
                p = " ".join(pick(rng.randint(40, 120))).capitalize() + "."
                paras.append(p)
                size += len(p) + 2
            body = "\n\n".join(paras)
            if kind == "html":
                body = "<html><body>" + "".join(f"<p>{p}</p>" for p in paras) + "</body></html>"
        (d / f"doc{i:05d}.{kind}").write_text(body, encoding="utf-8")
        total += len(body)
    return n_files, total
