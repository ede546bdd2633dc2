"""OA: employees, leave balances, policy/template documents (FTS5), rooms, bookings, meetings."""
from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta

from .common import d, dt, person

DEPTS = {"Procurement": ["Buyer", "Category Manager", "Head of Procurement"],
         "Sales": ["Account Manager", "Sales Engineer", "Sales Director"],
         "IT": ["System Administrator", "Service Desk Analyst", "IT Manager"],
         "Finance": ["Accountant", "Controller", "CFO"], "HR": ["HR Generalist", "Recruiter", "HR Director"],
         "Operations": ["Plant Operator", "Shift Lead", "Operations Manager"],
         "Logistics": ["Warehouse Clerk", "Dispatcher", "Logistics Manager"]}
LOCS = ["Berlin HQ", "Berlin HQ", "Rotterdam", "Lyon", "Chicago"]
LEAVE = [("annual", 28), ("sick", 10), ("training", 5)]

POLICIES = [
    ("policy", "Travel and Expense Policy", "Finance",
     "Business travel must be approved by your manager before booking. Book economy class for flights under "
     "six hours; business class needs director approval. Hotels up to 150 EUR per night (220 EUR in London, "
     "Paris and New York). Daily meal allowance is 45 EUR. Submit expense reports with receipts within 30 days "
     "of the trip through the expense portal. Mileage for private cars is reimbursed at 0.30 EUR per km. "
     "Taxis are allowed when public transport is not practical."),
    ("policy", "Annual Leave Policy", "HR",
     "Full-time employees receive 28 days of annual leave per calendar year; part-time staff pro rata. Request "
     "leave in the HR portal at least two weeks in advance for absences longer than three days. Up to five "
     "unused days carry over to 31 March of the next year. Sick leave requires a doctor's note from the third "
     "day. Parental leave follows national law; talk to HR early."),
    ("policy", "Remote Work Policy", "HR",
     "Employees may work remotely up to three days per week with their manager's agreement. Core hours are 10:00 "
     "to 15:00. Use the company VPN for all internal systems and keep confidential papers out of public places. "
     "The company pays a one-time home office allowance of 300 EUR."),
    ("policy", "Purchasing Approval Policy", "Procurement",
     "Purchase requisitions up to 1,000 EUR need team lead approval; up to 10,000 EUR the department head; above "
     "10,000 EUR the CFO. Purchases above 25,000 EUR need three competing quotes. Only approved vendors may be "
     "used; new vendors go through vendor onboarding with a credit check and a signed code of conduct. Split "
     "orders to avoid approval limits are forbidden."),
    ("policy", "Vendor Onboarding Procedure", "Procurement",
     "To add a vendor, collect the company registration, VAT number, bank details on letterhead, insurance "
     "certificate and signed supplier code of conduct. Procurement runs a credit and sanctions check. Vendors "
     "are rated yearly on quality, delivery reliability, price and service on a scale from 1 to 5."),
    ("policy", "Information Security Policy", "IT",
     "Passwords must have at least 14 characters; use the password manager. Multi-factor authentication is "
     "mandatory for email, VPN and the ERP. Lock your screen when you leave your desk. Report phishing with the "
     "Report button or to the service desk immediately. Do not install unapproved software. Laptops are encrypted."),
    ("policy", "Backup and Recovery Standard", "IT",
     "Production databases are backed up nightly with 35 days retention and a weekly offsite copy. Failed backup "
     "jobs must be rerun within 24 hours and tracked in a ticket. Restore tests run quarterly. The recovery "
     "point objective is 24 hours and the recovery time objective 8 hours for tier-1 systems."),
    ("policy", "Incident Management Process", "IT",
     "Severity 1 incidents page the on-call engineer and the IT manager; status updates every 30 minutes. "
     "Severity 2 updates hourly. Every sev1 and sev2 gets a post-incident review within five working days. "
     "Tickets are prioritised P1 (critical, 1 hour response) to P4 (low, 3 days)."),
    ("policy", "Meeting Room Booking Rules", "Facilities",
     "Book rooms in the office assistant or calendar. Release rooms you do not need. Bookings longer than four "
     "hours need facilities approval. Large rooms (12+ seats) are reserved for meetings of six or more people. "
     "Leave the room clean and switch off the video system."),
    ("policy", "Customer Complaint Handling", "Sales",
     "Acknowledge every customer complaint within one working day. Log it in the CRM with severity and category. "
     "Critical complaints are escalated to the sales director the same day. Close the complaint only after the "
     "customer confirms the resolution. Offer a credit note only with finance approval."),
    ("policy", "Code of Conduct", "HR",
     "We act with integrity, respect and fairness. Gifts above 50 EUR must be declared. Conflicts of interest "
     "must be reported to your manager. Harassment and discrimination are not tolerated. Use the whistleblowing "
     "line to report concerns anonymously."),
    ("policy", "Inventory and Reorder Policy", "Logistics",
     "Each product has a reorder point per warehouse. When stock on hand falls below the reorder point the "
     "planner raises a purchase requisition for the reorder quantity. Cycle counts run monthly for A items and "
     "quarterly for others. Stock differences above 2 percent need a root cause analysis."),
    ("policy", "Invoice Payment Terms", "Finance",
     "Vendor invoices are paid on their due date, normally 30 days net. Early payment discounts are taken when "
     "above 1.5 percent. Invoices without a matching purchase order and goods receipt are blocked until the "
     "buyer confirms. Overdue invoices are reviewed weekly by accounts payable."),
    ("guide", "New Employee Onboarding Guide", "HR",
     "Welcome! On day one you receive your laptop, badge and accounts from IT. Complete the security training in "
     "your first week. Your manager sets up a 30-60-90 day plan. The HR portal holds your contract, payslips and "
     "leave balance."),
    ("template", "Purchase Requisition Template", "Procurement",
     "Requester:\nDepartment:\nItem / SKU:\nQuantity:\nDelivery warehouse:\nNeeded by:\nPreferred vendor:\n"
     "Estimated cost (EUR):\nBudget code:\nJustification:"),
    ("template", "Meeting Minutes Template", "Administration",
     "Meeting title:\nDate and room:\nAttendees:\nAgenda:\nDecisions:\nAction items (owner, due date):\nNext meeting:"),
    ("template", "Leave Request Form", "HR",
     "Employee name:\nLeave type (annual, sick, training, parental):\nFrom:\nTo:\nNumber of days:\nStand-in:\n"
     "Manager approval:"),
    ("template", "Incident Report Template", "IT",
     "Incident ID:\nSeverity:\nStart and end time:\nAffected services and users:\nTimeline:\nRoot cause:\n"
     "Corrective actions:\nLessons learned:"),
    ("template", "Expense Report Template", "Finance",
     "Employee:\nTrip purpose:\nDates:\nTransport:\nHotel:\nMeals:\nOther:\nTotal (EUR):\nReceipts attached (yes/no):"),
    ("template", "Customer Visit Report", "Sales",
     "Customer:\nContacts met:\nDate:\nTopics discussed:\nOpportunities:\nRisks and complaints:\nNext steps:"),
]
ROOMS = [("Alder", "HQ", 1, 4, 0), ("Birch", "HQ", 1, 6, 1), ("Cedar", "HQ", 2, 8, 1), ("Douglas", "HQ", 2, 12, 1),
         ("Elm", "HQ", 3, 20, 1), ("Fir", "HQ", 3, 4, 1), ("Ginkgo", "Annex", 1, 6, 0), ("Hazel", "Annex", 1, 10, 1),
         ("Juniper", "Annex", 2, 2, 0), ("Linden", "Annex", 2, 16, 1), ("Maple", "HQ", 4, 30, 1),
         ("Oak", "HQ", 4, 8, 0)]
MEETINGS = ["Weekly sync", "Vendor review", "Sprint planning", "Budget review", "1:1", "Customer call prep",
            "Incident review", "S&OP meeting", "Hiring interview", "Quarterly business review", "Training"]


def generate(con: sqlite3.Connection, rng: random.Random, today: date, n_employees=160) -> None:
    emps, emails = [], set()
    heads: dict[str, int] = {}
    for eid in range(1, n_employees + 1):
        dept = list(DEPTS)[eid % len(DEPTS)]
        name = person(rng)
        email = f"{name.split()[0].lower()}.{name.split()[1].lower()}@bestbox-demo.example"
        k = 2
        while email in emails:
            email = f"{name.split()[0].lower()}.{name.split()[1].lower()}{k}@bestbox-demo.example"
            k += 1
        emails.add(email)
        is_head = dept not in heads
        title = DEPTS[dept][-1] if is_head else rng.choice(DEPTS[dept][:-1])
        emps.append((eid, name, email, dept, title, None if is_head else heads[dept], rng.choice(LOCS),
                     d(today - timedelta(days=rng.randint(30, 4000)))))
        heads.setdefault(dept, eid)
    con.executemany("INSERT INTO employees VALUES (?,?,?,?,?,?,?,?)", emps)
    bal = []
    frac = (today.timetuple().tm_yday) / 365
    for e in emps:
        for year in (today.year - 1, today.year):
            for lt, ent in LEAVE:
                full = year < today.year
                taken = rng.uniform(0.5, 1.0) * ent if full else rng.uniform(0.2, 1.1) * ent * frac
                taken = round(min(ent, taken) * 2) / 2 if lt != "sick" else float(rng.randint(0, 8 if full else 5))
                bal.append((e[0], year, lt, float(ent), taken))
    con.executemany("INSERT INTO leave_balances VALUES (?,?,?,?,?)", bal)

    docs = [(i + 1, k, t, dep, body, d(today - timedelta(days=rng.randint(10, 700))))
            for i, (k, t, dep, body) in enumerate(POLICIES)]
    con.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?)", docs)
    con.execute("INSERT INTO documents_fts(rowid, title, body) SELECT id, title, body FROM documents")

    con.executemany("INSERT INTO rooms VALUES (?,?,?,?,?,?)", [(i + 1, *r) for i, r in enumerate(ROOMS)])
    bookings, meetings = [], []
    start_day = today - timedelta(days=14)
    for day in range(28):
        x = start_day + timedelta(days=day)
        if x.weekday() >= 5:
            continue
        for rid in range(1, len(ROOMS) + 1):
            hour = 8
            while hour < 18:
                if rng.random() < 0.45:
                    length = rng.choice([1, 1, 1, 2, 2, 3])
                    if hour + length > 18:
                        break
                    s = datetime.combine(x, datetime.min.time()).replace(hour=hour)
                    e = s + timedelta(hours=length) - timedelta(minutes=rng.choice([0, 0, 30]) if length > 1 else 0)
                    org = rng.choice(emps)
                    title = rng.choice(MEETINGS)
                    bookings.append((len(bookings) + 1, rid, title, org[1], dt(s), dt(e)))
                    meetings.append((len(meetings) + 1, title, org[0], len(bookings), dt(s), dt(e),
                                     rng.randint(2, ROOMS[rid - 1][3]), None))
                    hour += length
                else:
                    hour += 1
    con.executemany("INSERT INTO room_bookings VALUES (?,?,?,?,?,?)", bookings)
    for _ in range(120):
        x = start_day + timedelta(days=rng.randint(0, 27))
        s = datetime.combine(x, datetime.min.time()).replace(hour=rng.randint(8, 17), minute=rng.choice([0, 30]))
        meetings.append((len(meetings) + 1, rng.choice(MEETINGS), rng.choice(emps)[0], None, dt(s),
                         dt(s + timedelta(minutes=rng.choice([30, 45, 60]))), rng.randint(2, 12),
                         f"https://meet.bestbox-demo.example/{rng.randrange(16**8):08x}"))
    con.executemany("INSERT INTO meetings VALUES (?,?,?,?,?,?,?,?)", meetings)
