"""Records stand in for dicts wherever rows are read or remembered: they must behave alike."""

from __future__ import annotations

import json
import pickle
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.model import BookRead, SheetRow, TableRead
from functions.record import Record, as_json, compact, freeze, projection, share
from functions.tick.diff import diff_table, sharing_read_values

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_a_frozen_json_object_reads_and_writes_back_as_the_same_object(obj: dict) -> None:
    frozen = freeze(obj)
    assert frozen == obj
    assert obj == frozen
    assert dict(frozen) == {k: freeze(v) for k, v in obj.items()}
    assert json.loads(json.dumps(frozen, default=as_json)) == json.loads(json.dumps(obj))
    assert pickle.loads(pickle.dumps(frozen)) == obj


def test_a_record_answers_like_a_dict() -> None:
    row = Record.of({"id": "INV-1", "amount": 10, "note": None})
    assert row["id"] == "INV-1"
    assert row.get("amount") == 10
    assert row.get("note") is None
    assert row.get("missing", "default") == "default"
    assert "missing" not in row
    assert list(row) == ["id", "amount", "note"]
    assert len(row) == 3
    assert {**row, "note": "x"} == {"id": "INV-1", "amount": 10, "note": "x"}
    with pytest.raises(KeyError):
        row["missing"]


def test_rows_of_one_shape_share_one_index_and_their_texts() -> None:
    a = compact(("status", "supplier"), ["Awaiting " + "decision", "Globex"])
    b = freeze(json.loads('{"status": "Awaiting decision", "supplier": "Globex"}'))
    c = Record.of({"status": "x", "supplier": "y"})
    assert a._index is c._index  # one index per shape, not per row
    assert a["status"] is b["status"]  # one copy of each short text
    assert sys.getsizeof(a) + sys.getsizeof(a._cells) < sys.getsizeof(dict(a)) + 100


def test_long_texts_are_kept_as_they_are() -> None:
    long = "x" * 65
    assert share(long) is long
    assert share(5) == 5
    assert share(None) is None


def test_projection_reads_the_same_columns_whatever_the_key_order() -> None:
    pick = projection(("a", "b"))
    sheet_order = Record.of({"a": 1, "b": 2, "c": 3})
    sorted_order = freeze({"b": 2, "a": 1})
    assert pick(sheet_order) == pick(sorted_order) == pick({"a": 1, "b": 2}) == (1, 2)
    assert pick(Record.of({"a": 1})) is None
    assert pick({"b": 2}) is None
    assert projection(("b",))(sheet_order) == (2,)


def test_the_diff_sees_a_change_between_a_read_record_and_a_remembered_one() -> None:
    columns = ("id", "status", "amount")
    remembered = {
        "INV-1": freeze({"amount": 5, "id": "INV-1", "status": "New"}),
        "INV-2": freeze({"amount": 7, "id": "INV-2", "status": "New"}),
    }
    rows = [
        SheetRow(2, compact(columns, ["INV-1", "New", 5])),
        SheetRow(3, compact(columns, ["INV-2", "New", 8])),
    ]
    diff = diff_table(remembered, rows, "id", columns)
    assert diff.changed == {"INV-2": {"amount": (7, 8)}}


def test_a_remembered_row_equal_to_the_read_one_shares_its_values() -> None:
    columns = ("id", "status", "amount")
    read = BookRead(
        "en",
        {
            "invoices": TableRead(
                "invoices",
                "Invoices",
                columns,
                (
                    SheetRow(2, compact(columns, ["INV-1", "New", 5])),
                    SheetRow(3, compact(columns, ["INV-2", "New", 8])),
                ),
            )
        },
        "v1",
    )
    remember = sharing_read_values(read, {"invoices": "id", "deals": "deal_id"})
    same = freeze(
        {"state": {"status": "new"}, "values": {"amount": 5, "id": "INV-1", "status": "New"}}
    )
    edited = freeze({"state": {}, "values": {"amount": 7, "id": "INV-2", "status": "New"}})
    gone = freeze({"state": {}, "values": {"amount": 1, "id": "INV-9", "status": "New"}})

    kept = remember("invoices", "INV-1", same)
    assert kept["values"] is read.tables["invoices"].rows[0].values
    assert kept == same  # nothing downstream can tell
    assert remember("invoices", "INV-2", edited) is edited
    assert remember("invoices", "INV-9", gone) is gone
    assert remember("deals", "D-1", same) is same
    stateless = freeze({"state": {"status": "new"}})  # no values kept: nothing to share
    assert remember("invoices", "INV-1", stateless) is stateless
