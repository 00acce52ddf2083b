"""The one compare-and-set every backend renders: where a write goes and whether it is put."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.errors import SchemaError
from functions.model import Cell, CellLock, CellWrite, RowAppend, SheetChanges, Stored
from functions.schema import DATA_ROWS, column_positions, load_schema, unique_title
from functions.text.messages import say
from functions.write_decision import (
    RowsById,
    WriteDecision,
    decide_write,
    in_write_order,
    put_rows,
    unlocks_people_cells,
)

SCHEMA = load_schema()


class FakeTab:
    """Invoices as a dict of rows, IDs in the `id` column."""

    def __init__(self, rows: dict[int, dict[str, Cell]]) -> None:
        self.rows = rows
        self.ids = RowsById(lambda row: self.rows.get(row, {}).get("id"), self._ids)

    def _ids(self) -> Iterator[tuple[int, Cell]]:
        return ((row, self.rows[row].get("id")) for row in sorted(self.rows))

    def row_of(self, record: str, hint: int | None) -> int | None:
        return self.ids.row_of(record, hint)

    def current(self, row: int, column: str) -> Cell:
        return self.rows.get(row, {}).get(column)


def write(record: str | None, row: int, value: Stored, expected: Stored) -> CellWrite:
    return CellWrite("invoices", record, row, "status", value, expected)


def test_a_write_is_put_where_the_record_is_when_the_cell_holds_what_was_read() -> None:
    tab = FakeTab({2: {"id": "INV-1", "status": "Draft"}})
    decision = decide_write(write("INV-1", 2, "Approved", "Draft"), tab, SCHEMA, "en")
    assert (decision.row, decision.put, decision.note) == (2, True, None)


def test_a_write_follows_its_record_to_the_row_it_moved_to() -> None:
    tab = FakeTab({2: {"id": "INV-2"}, 5: {"id": "INV-1", "status": "Draft"}})
    decision = decide_write(write("INV-1", 2, "Approved", "Draft"), tab, SCHEMA, "en")
    assert (decision.row, decision.put) == (5, True)


def test_a_persons_newer_value_is_kept_and_the_note_names_record_and_column() -> None:
    tab = FakeTab({2: {"id": "INV-1", "status": "Paid"}})
    decision = decide_write(write("INV-1", 2, "Approved", "Draft"), tab, SCHEMA, "en")
    assert decision == WriteDecision(
        2, put=False, note="INV-1 Status: kept the value a person typed meanwhile"
    )


def test_a_kept_value_of_a_row_without_id_is_noted_by_row_number_in_the_persons_language() -> None:
    tab = FakeTab({4: {"status": "Paid"}})
    decision = decide_write(write(None, 4, "Approved", "Draft"), tab, SCHEMA, "ru")
    note = "строка 4 Статус: оставлено значение, которое тем временем ввёл человек"
    assert decision == WriteDecision(4, put=False, note=note)


def test_a_cell_already_holding_the_value_needs_no_write_and_no_note() -> None:
    tab = FakeTab({2: {"id": "INV-1", "status": "Approved"}})
    decision = decide_write(write("INV-1", 2, "Approved", "Draft"), tab, SCHEMA, "en")
    assert decision == WriteDecision(2, put=False, note=None)


def test_a_write_for_a_deleted_record_has_no_row_and_says_so() -> None:
    decision = decide_write(write("INV-9", 2, "Approved", "Draft"), FakeTab({}), SCHEMA, "ru")
    note = say("ru", "write_row_gone", label="INV-9 Статус")
    assert note.startswith("INV-9 Статус: строки больше нет")
    assert decision == WriteDecision(None, put=False, note=note)


def test_a_write_stays_on_its_planned_row_while_it_holds_the_record_below_a_duplicate() -> None:
    tab = FakeTab({2: {"id": "INV-1", "status": "Draft"}, 3: {"id": "INV-1", "status": "Draft"}})
    decision = decide_write(write("INV-1", 3, "Approved", "Draft"), tab, SCHEMA, "en")
    assert decision == WriteDecision(3, put=True)


def test_an_id_assignment_goes_by_row_and_comes_first_keeping_plan_positions() -> None:
    later = write("INV-1", 2, "Approved", None)
    assign = CellWrite("invoices", None, 2, "id", "INV-1", None)
    assert in_write_order([later, assign], SCHEMA) == [(1, assign), (0, later)]
    new_row_status = CellWrite("invoices", None, 3, "status", "New", None)
    assert in_write_order([later, new_row_status], SCHEMA) == [(0, later), (1, new_row_status)]
    tab = FakeTab({2: {"status": None}})
    assert decide_write(assign, tab, SCHEMA, "en").row == 2


def test_the_planned_row_wins_over_an_earlier_duplicate_and_a_forgotten_index_is_rebuilt() -> None:
    rows: dict[int, dict[str, Cell]] = {1: {"id": "ID"}, 2: {"id": "A"}, 3: {"id": "A"}}
    tab = FakeTab(rows)
    assert tab.row_of("A", 3) == 3
    assert tab.row_of("A", None) == 2
    rows[4] = {"id": "B"}
    assert tab.row_of("B", None) is None  # the index is kept until an ID is written
    tab.ids.forget()
    assert tab.row_of("B", None) == 4
    assert tab.row_of("ID", 1) is None  # the header row is never a record's
    assert tab.row_of("ID", None) is None


def test_the_planned_row_is_trusted_while_it_holds_the_id_even_when_the_index_is_stale() -> None:
    rows: dict[int, dict[str, Cell]] = {2: {"id": "A"}, 3: {"id": "B"}}
    tab = FakeTab(rows)
    assert tab.row_of("B", None) == 3
    rows[2], rows[3] = rows[3], rows[2]  # a person sorted the rows after the index was built
    assert tab.row_of("B", 2) == 2
    assert tab.row_of("A", 3) == 3


def test_only_rows_below_the_prepared_ones_of_protected_tabs_unlock_peoples_cells() -> None:
    assert unlocks_people_cells("invoices", DATA_ROWS + 1)
    assert not unlocks_people_cells("invoices", DATA_ROWS)
    assert not unlocks_people_cells("people", DATA_ROWS + 1)


def test_columns_are_found_by_header_ignoring_case_and_spaces() -> None:
    tab = SCHEMA.tab("deals")
    header = [f" {h.upper()} " for h in tab.headers("en") if h != "Currency"]
    positions = column_positions(["extra", *header], tab, "en", "Deals")
    assert "currency" not in positions  # optional
    assert positions[tab.columns[0].key] == 1
    with pytest.raises(SchemaError, match="Deals"):
        column_positions(header[1:], tab, "en", "Deals")


def test_a_clashing_title_is_numbered_within_the_length_limit() -> None:
    long = "x" * 31
    assert unique_title(long, [long.upper()]) == "x" * 27 + " (2)"
    assert unique_title("Q", ["q", "Q (2)"], limit=None) == "Q (3)"


class RecordingWriter:
    """What `put_rows` asks of a writer, in the order it asks; the write for INV-2 is refused."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def append(self, append: RowAppend) -> None:
        self.calls.append(f"append {append.tab}")

    def write(self, write: CellWrite) -> str | None:
        self.calls.append(f"write {write.record} {write.column}")
        return "kept the person's value" if write.record == "INV-2" else None

    def lock(self, lock: CellLock) -> None:
        self.calls.append(f"lock {lock.record} {lock.column}")


def test_rows_are_put_appends_first_then_new_ids_then_writes_then_locks() -> None:
    changes = SheetChanges(
        writes=[
            CellWrite("invoices", "INV-2", 3, "status", "New", None),
            CellWrite("invoices", None, 4, "id", "INV-3", None),
        ],
        locks=[CellLock("invoices", "INV-1", "accountant", True)],
        appends=[RowAppend("deals", "D-7", {"deal_id": "D-7"})],
    )
    writer = RecordingWriter()
    skipped = put_rows(changes, writer, SCHEMA)
    assert writer.calls == [
        "append deals",
        "write None id",
        "write INV-2 status",
        "lock INV-1 accountant",
    ]
    assert skipped == ["kept the person's value"]
