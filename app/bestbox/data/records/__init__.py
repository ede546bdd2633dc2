"""The user's records (ERP, CRM, IT Ops) from their own database, through a mapping they write once.

`mapping` (which entities and columns the tools need, read from the demo schema; the user's SELECTs),
`source` (the database by URL, read-only, password from env or keyring), `sync` (`check` a mapping,
`sync` into a snapshot the tools read), `names` (the user's names for the glossary and the fast path).
See docs/data-sources.md.
"""
