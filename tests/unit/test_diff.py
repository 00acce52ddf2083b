"""The diff reports exactly what changed, by ID, whatever people do to row order."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.model import SheetRow
from functions.tick.diff import diff_table, row_values

COLUMNS = ("id", "a", "b")
values = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3).filter(str.strip))


def _rows(table: dict[str, dict[str, Any]], order: list[str]) -> list[SheetRow]:
    return [SheetRow(i + 2, {"id": rid, **table[rid]}) for i, rid in enumerate(order)]


@st.composite
def edited_tables(draw: st.DrawFn) -> tuple[dict, dict, list[str], dict]:
    ids = draw(st.lists(st.from_regex(r"INV-00000[0-9]", fullmatch=True), unique=True, max_size=8))
    before = {rid: {"a": draw(values), "b": draw(values)} for rid in ids}
    after = {rid: dict(v) for rid, v in before.items()}
    deleted = draw(st.sets(st.sampled_from(ids))) if ids else set()
    for rid in deleted:
        del after[rid]
    expected_changes: dict[str, dict] = {}
    for rid in after:
        if draw(st.booleans()):
            column = draw(st.sampled_from(("a", "b")))
            new = draw(values)
            after[rid][column] = new
    for rid in after:
        fields = {
            c: (before[rid][c], after[rid][c])
            for c in ("a", "b")
            if before[rid][c] != after[rid][c]
        }
        if fields:
            expected_changes[rid] = fields
    added_ids = draw(
        st.lists(st.from_regex(r"NEW-[0-9]{3}", fullmatch=True), unique=True, max_size=3)
    )
    for rid in added_ids:
        after[rid] = {"a": draw(values), "b": draw(values)}
    order = draw(st.permutations(list(after)))
    return before, after, order, expected_changes


def _norm(v: object) -> object:
    if isinstance(v, str):
        return v if v.strip() else None
    return v


@settings(max_examples=300, deadline=None)
@given(edited_tables())
def test_any_mix_of_edits_sorts_inserts_and_deletes_is_reported_exactly(case: tuple) -> None:
    before, after, order, expected_changes = case
    snapshot = {
        rid: {"id": rid, **{k: _norm(v) for k, v in vals.items()}} for rid, vals in before.items()
    }
    diff = diff_table(snapshot, _rows(after, order), "id", COLUMNS)
    assert set(diff.added) == set(after) - set(before)
    assert set(diff.removed) == set(before) - set(after)
    expected = {
        rid: {c: (_norm(o), _norm(n)) for c, (o, n) in f.items() if _norm(o) != _norm(n)}
        for rid, f in expected_changes.items()
    }
    assert diff.changed == {rid: f for rid, f in expected.items() if f}
    assert diff.unidentified == ()


def test_sorting_rows_changes_nothing() -> None:
    table = {"X1": {"a": 1, "b": "p"}, "X2": {"a": 2, "b": "q"}}
    snapshot: dict[str, dict[str, Any]] = {rid: {"id": rid, **v} for rid, v in table.items()}
    diff = diff_table(snapshot, _rows(table, ["X2", "X1"]), "id", COLUMNS)
    assert diff.is_empty


def test_a_copied_row_leaves_the_id_with_the_row_most_like_the_snapshot() -> None:
    snapshot: dict[str, dict[str, Any]] = {"X1": {"id": "X1", "a": 1, "b": "original"}}
    rows = [
        SheetRow(2, {"id": "X1", "a": 1, "b": "copy"}),
        SheetRow(3, {"id": "X1", "a": 1, "b": "original"}),
    ]
    diff = diff_table(snapshot, rows, "id", COLUMNS)
    assert diff.rows["X1"].number == 3
    assert [r.number for r in diff.copies["X1"]] == [2]
    assert diff.changed == {}


def test_rows_without_id_are_reported_as_unidentified() -> None:
    diff = diff_table({}, [SheetRow(2, {"id": None, "a": 1})], "id", COLUMNS)
    assert [r.number for r in diff.unidentified] == [2]


def test_a_row_missing_a_column_the_snapshot_holds_empty_is_unchanged() -> None:
    snapshot: dict[str, dict[str, Any]] = {
        "X1": {"id": "X1", "a": 1, "b": None},
        "X2": {"id": "X2", "a": 2, "b": None},
    }
    rows = [SheetRow(2, {"id": "X1", "a": 1}), SheetRow(3, {"id": "X2", "a": 3})]
    diff = diff_table(snapshot, rows, "id", COLUMNS)
    assert diff.changed == {"X2": {"a": (2, 3)}}


def test_a_numeric_id_cell_is_read_as_its_text() -> None:
    diff = diff_table(
        {}, [SheetRow(2, {"id": 1001.0, "a": 1}), SheetRow(3, {"id": " X "})], "id", COLUMNS
    )
    assert diff.added == ("1001", "X")


def test_a_new_id_typed_on_two_rows_stays_with_the_first() -> None:
    rows = [SheetRow(2, {"id": "N1", "a": 1}), SheetRow(3, {"id": "N1", "a": 2})]
    diff = diff_table({}, rows, "id", COLUMNS)
    assert diff.rows["N1"].number == 2
    assert [r.number for r in diff.copies["N1"]] == [3]


def test_row_values_are_the_stored_cells_of_the_named_columns() -> None:
    row = SheetRow(2, {"id": " X1 ", "a": 2.0, "z": "ignored"})
    assert row_values(row, ["id", "a", "b"]) == {"id": " X1 ", "a": 2, "b": None}
