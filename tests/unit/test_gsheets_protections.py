"""The compact store of a tab's protected ranges gives back exactly what Google sent."""

from __future__ import annotations

import json

import pytest

from functions.adapters.gsheets.answers import parse_spreadsheet, parse_tabs
from functions.adapters.gsheets.cells import TAB_LOCK, lock_description
from functions.adapters.gsheets.protections import Protection, Protections

ROBOT = "sheetflow@p.iam.gserviceaccount.com"


def span(**fields: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
    return tuple(fields), tuple(fields.values())


LOCK = Protection(
    7001,
    lock_description("invoices", "INV-000123", "accountant"),
    span(sheetId=5, startRowIndex=122, endRowIndex=123, startColumnIndex=12, endColumnIndex=13),
    (ROBOT,),
)
SIGNER_LOCK = Protection(
    7002,
    lock_description("invoices", "INV-000124", "decision", ("Elena Sokolova",)),
    span(sheetId=5, startRowIndex=123, endRowIndex=124, startColumnIndex=10, endColumnIndex=11),
    (ROBOT, "elena@example.com", "owner@example.com"),
)
WHOLE_TAB = Protection(7003, TAB_LOCK, span(sheetId=9), (ROBOT,))
ODD_ORDER = Protection(  # fields in another order, a column range with no rows
    7004,
    "sheetflow: only the automation writes this column",
    (("startColumnIndex", "sheetId", "endColumnIndex"), (3, 5, 4)),
    (ROBOT,),
)
LOOKS_LIKE_A_LOCK = Protection(  # a person's own description that starts like ours
    7005, "sheetflow lock: invoices/INV-1/accountant for ", span(sheetId=5), ()
)
NOT_INTEGERS = Protection(7006, "odd", (("sheetId", "namedRangeId"), (5, "abc")), ())
EVERY = [LOCK, SIGNER_LOCK, WHOLE_TAB, ODD_ORDER, LOOKS_LIKE_A_LOCK, NOT_INTEGERS]


def test_each_protection_comes_back_exactly_as_stored() -> None:
    store = Protections(EVERY)
    assert len(store) == len(EVERY)
    assert list(store) == EVERY
    assert [store[i] for i in range(-len(EVERY), 0)] == EVERY
    assert store[1:3] == EVERY[1:3]
    assert store == EVERY
    assert store == tuple(EVERY)
    assert store == Protections(EVERY)
    assert store != EVERY[:-1]
    assert store != Protections(EVERY[1:])
    assert store[3].range == {"startColumnIndex": 3, "sheetId": 5, "endColumnIndex": 4}
    assert store[1].description.endswith(" for Elena Sokolova")
    with pytest.raises(IndexError):
        store[len(EVERY)]
    assert hash(store) == hash(Protections(EVERY))


def test_lock_descriptions_are_read_as_locks_however_written() -> None:
    assert list(Protections(EVERY).locks()) == [
        (0, "invoices", "INV-000123", "accountant"),
        (1, "invoices", "INV-000124", "decision"),
        (4, "invoices", "INV-1", "accountant"),  # kept as written, still a lock of ours
    ]


def test_locks_of_a_column_share_one_key_and_the_record_text_of_the_cell() -> None:
    record = "".join(["INV-", "000123"])  # a string object of its own, as a cell read gives
    other = Protection(
        7010,
        lock_description("invoices", record, "accountant"),
        span(sheetId=5, startRowIndex=1, endRowIndex=2, startColumnIndex=12, endColumnIndex=13),
        (ROBOT,),
    )
    store = Protections([LOCK, other])
    assert store._texts[0] is store._texts[1]  # one key for the whole column
    assert store._records[0] is store._records[1]  # interned: the same text is one object


def test_a_streamed_answer_holds_each_tabs_protections_compactly() -> None:
    def as_json(found: Protection) -> dict[str, object]:
        return {
            "protectedRangeId": found.id,
            "description": found.description,
            "range": found.range,
            "editors": {"users": list(found.editors)},
        }

    answer = {
        "properties": {"locale": "en_US"},
        "sheets": [
            {
                "properties": {"sheetId": 5, "title": "Invoices"},
                "protectedRanges": [as_json(p) for p in EVERY],
            },
            {"properties": {"sheetId": 9, "title": "Log"}},
        ],
    }
    streamed = parse_spreadsheet(json.dumps(answer).encode())
    assert isinstance(streamed["sheets"][0]["protectedRanges"], Protections)
    tabs = parse_tabs(streamed)
    assert list(tabs[0].protections) == EVERY
    assert tabs == parse_tabs(answer)  # the whole decode gives the same
    assert list(tabs[1].protections) == []


def test_a_gzipped_answer_is_parsed_as_it_arrives_in_small_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gzip
    import io

    import requests
    import urllib3

    from functions.adapters.gsheets import api as gsheets_api

    answer = {
        "sheets": [
            {
                "properties": {"sheetId": 5, "title": "Счета"},
                "protectedRanges": [
                    {
                        "protectedRangeId": p.id,
                        "description": p.description,
                        "range": p.range,
                        "editors": {"users": list(p.editors)},
                    }
                    for p in EVERY
                ],
            }
        ]
    }
    body = json.dumps(answer, ensure_ascii=False).encode()
    monkeypatch.setattr(gsheets_api, "CHUNK_BYTES", 7)  # pieces that split words and letters
    response = requests.Response()
    response.raw = urllib3.HTTPResponse(
        body=io.BytesIO(gzip.compress(body)),
        headers={"Content-Encoding": "gzip"},
        preload_content=False,
        decode_content=True,
    )
    arriving = gsheets_api._body(response)
    assert isinstance(arriving, gsheets_api._Arriving)
    streamed = parse_tabs(parse_spreadsheet(arriving))
    assert streamed == parse_tabs(answer)
    assert streamed[0].title == "Счета"
    assert list(streamed[0].protections) == EVERY
    assert arriving.read() == b""  # all of it read, nothing left over
