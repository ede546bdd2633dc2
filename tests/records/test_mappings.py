"""The shipped example mappings parse, name only entities BestBox knows, and say whether they are tested;
a wrong mapping file is named precisely."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bestbox.data.records.mapping import Mapping, MappingError, entities

DOCS = Path(__file__).parents[2] / "docs" / "data-mappings"


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_mappings_parse(path):
    m = Mapping.load(path)
    assert {"vendors", "purchase_orders", "invoices", "customers", "opportunities"} <= set(m.queries)
    head = path.read_text().split("\n\n", 1)[0]
    assert bool(re.search(r"^# TESTED:", head, re.M)) != bool(re.search(r"^# UNTESTED:", head, re.M)), \
        "say whether the mapping is tested"


def test_entities_come_from_the_demo_schema():
    e = entities()
    assert "meta" not in e and "documents_fts" not in e
    po = e["purchase_orders"]
    assert po.column("received_date").required is False and po.column("total_amount").type == "REAL"
    assert po.column("order_date").kind == "date" and e["logs"].column("ts").kind == "datetime_s"


@pytest.mark.parametrize("text,msg", [
    ("[vendor]\nsql='SELECT 1'", "not an entity BestBox knows"),
    ("[vendors]\nquery='SELECT 1'", "needs sql ="),
    ("[vendors]\nsql='DELETE FROM x'", "must be a SELECT"),
    ("[vendors\n", "not valid TOML"),
    ("", "maps no entity"),
])
def test_bad_mapping_files_are_named(tmp_path, text, msg):
    p = tmp_path / "m.toml"
    p.write_text(text)
    with pytest.raises(MappingError, match=msg):
        Mapping.load(p)
