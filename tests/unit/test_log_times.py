"""The Log's Time: written as a date-time in the Settings zone, read back from any Log."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from functions.model import Cell
from functions.report import log_frame
from functions.text.log_times import (
    from_serial,
    log_cell,
    log_instant,
    same_log_row,
    same_time,
    to_serial,
    wall_clock,
)

MOSCOW = ZoneInfo("Europe/Moscow")
STAMP = "2026-11-28 09:30:17+03:00"  # as FlowContext.log writes it in Moscow


def test_a_stamp_with_an_offset_becomes_the_wall_clock_of_its_zone() -> None:
    assert wall_clock(STAMP) == datetime(2026, 11, 28, 9, 30, 17)
    assert log_cell(STAMP, serial=False) == datetime(2026, 11, 28, 9, 30, 17)


def test_text_that_is_not_a_stamp_stays_text() -> None:
    assert wall_clock("09:00") is None
    assert wall_clock("2026-11-28 09:30") is None  # no offset: not one of ours
    assert log_cell("yesterday", serial=True) == "yesterday"


def test_a_serial_number_is_days_since_1899_12_30_to_the_second() -> None:
    when = datetime(2026, 11, 28, 9, 30, 17)
    assert to_serial(datetime(2020, 1, 1)) == 43831  # as Google answers for 2020-01-01
    assert from_serial(to_serial(when)) == when
    assert log_cell(STAMP, serial=True) == to_serial(when)


def test_old_text_times_date_time_cells_and_serials_are_the_same_instant() -> None:
    expected = datetime(2026, 11, 28, 6, 30, 17, tzinfo=UTC)
    readings: list[Cell] = [
        STAMP,
        datetime(2026, 11, 28, 9, 30, 17),
        to_serial(wall_clock(STAMP)),  # type: ignore[arg-type]
    ]
    for cell in readings:
        assert log_instant(cell, MOSCOW) == expected, cell
    assert log_instant("not a time", MOSCOW) is None
    assert log_instant(None, MOSCOW) is None


def test_a_replayed_entry_is_recognised_in_every_form_of_its_time() -> None:
    row = [STAMP, "Invoice", "INV-000001", "created", "", "New", "", ""]
    assert same_log_row([datetime(2026, 11, 28, 9, 30, 17), *row[1:]], row)
    assert same_log_row([to_serial(datetime(2026, 11, 28, 9, 30, 17)), *row[1:]], row)
    assert same_log_row(row, row)
    assert not same_log_row([datetime(2026, 11, 28, 9, 30, 18), *row[1:]], row)
    assert not same_log_row([STAMP, "Invoice", "INV-000002", *row[3:]], row)
    assert same_time("09:00", "09:00")
    assert not same_time("09:01", "09:00")


def test_the_report_reads_a_log_mixing_text_times_date_time_cells_and_serials() -> None:
    rows: list[list[Cell]] = [
        [STAMP, "Invoice", "INV-1", "created"],
        [datetime(2026, 11, 28, 10, 0), "Invoice", "INV-2", "created"],
        [to_serial(datetime(2026, 11, 28, 11, 0)), "Invoice", "INV-3", "created"],
        ["garbage", "Invoice", "INV-4", "created"],
    ]
    frame = log_frame(rows, MOSCOW)
    assert list(frame["record"]) == ["INV-1", "INV-2", "INV-3"]
    assert [t.hour for t in frame["at"]] == [9, 10, 11]  # local Moscow hours, as written
    assert str(frame["at"].iloc[0].tz) == "Europe/Moscow"
