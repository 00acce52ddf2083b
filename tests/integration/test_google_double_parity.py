"""The Sheets test double against real Google traffic (gspread's recorded cassettes).

(a) every recorded request validates against the discovery document through the double's
validator, and the recorded schema errors are rejected with Google's own message;
(b) replaying whole recorded sessions, the double answers each request with the same status
and a response of the same shape (values requests: the same values), and every answer of the
double is itself valid against the discovery document's response schema;
(c) the adapter's parsers accept the real recorded responses.

No recorded session adds a chart (the report tabs' `addChart`): the double's chart answers
are checked against the discovery document's response schemas in tests/google_double, and a
test below notices when a recording with a chart arrives, so it can be replayed here.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from functions.adapters import google_calls
from functions.adapters.gsheets import answers as gsheets_answers
from functions.adapters.gsheets import protections as gsheets_protections
from tests.google_double import GoogleDouble
from tests.google_double.discovery import Validator

RECORDINGS = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "google-recordings"
    / "gspread-cassettes"
)
if not RECORDINGS.is_dir():
    # Like the emulator tests: skipped on a laptop without shared/, a failure on CI.
    if os.environ.get("CI") == "true":
        pytest.fail(f"no Google recordings at {RECORDINGS} on CI", pytrace=False)
    pytest.skip(f"no recordings at {RECORDINGS}", allow_module_level=True)

SA = "telegram-budgeter@telegram-budgeter.iam.gserviceaccount.com"  # the recordings' account
Interaction = dict[str, Any]
# Recorded sessions made only of operations sheetflow uses (plus the test setup around them).
REPLAYED = [
    "WorksheetTest.test_add_protected_range_normal",
    "WorksheetTest.test_add_protected_range_warning",
    "WorksheetTest.test_delete_protected_range",
    "WorksheetTest.test_add_validation",
    "WorksheetTest.test_hide_show_worksheet",
    "SpreadsheetTest.test_add_del_worksheet",  # deleteSheet, as a report tab is rewritten
    "WorksheetTest.test_freeze",
    "WorksheetTest.test_basic_filters",
    "WorksheetTest.test_batch_get",
    "SpreadsheetTest.test_values_batch_get",
    "SpreadsheetTest.test_values_get",
    "WorksheetTest.test_batch_update",
    "WorksheetTest.test_update_cells",
    "WorksheetTest.test_append_row",
    "WorksheetTest.test_append_row_with_empty_value",
    "WorksheetTest.test_append_row_with_empty_value_and_table_range",
    "WorksheetTest.test_get_all_values_date_time_render_options",
    "WorksheetTest.test_get_all_values_title_is_a1_notation",
    "WorksheetTest.test_get_all_records_value_render_options",
    "WorksheetTest.test_worksheet_update_index",
    "WorksheetTest.test_range_unbounded",
    "CellTest.test_numeric_value",
    "WorksheetTest.test_update_cell",
    "ClientTest.test_access_non_existing_spreadsheet",
    "ClientTest.test_access_private_spreadsheet",
]
SHEETS = Validator("sheets.v4")
VALUES_KINDS = ("values.get", "values.batchGet", "values.update", "values.append")


@cache
def cassette(name: str) -> list[Interaction]:
    data = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    interactions: list[Interaction] = data["interactions"]
    return interactions


def all_cassettes() -> list[str]:
    return sorted(p.stem for p in RECORDINGS.glob("*Test.*.json"))


@cache
def sheets_routes() -> list[tuple[str, re.Pattern[str], str]]:
    """Every Sheets v4 method of the discovery document, as (verb, path pattern, method id)."""
    validator = Validator("sheets.v4")
    routes = []

    def walk(node: dict[str, Any]) -> None:
        for method in node.get("methods", {}).values():
            pattern = re.sub(r"\{[^}]+\}", "([^/]+?)", method["flatPath"])
            routes.append((method["httpMethod"], re.compile(f"^/{pattern}$"), method["id"]))
        for child in node.get("resources", {}).values():
            walk(child)

    walk(validator.doc)
    return routes


def method_of(request: dict[str, Any]) -> str | None:
    parts = urlsplit(request["uri"])
    if parts.hostname != "sheets.googleapis.com":
        return "drive" if "drive" in parts.path else None
    for verb, pattern, method_id in sheets_routes():
        if verb == request["method"] and pattern.match(unquote(parts.path)):
            return method_id
    return None


def body_of(request: dict[str, Any]) -> Any:
    return json.loads(request["body"]) if request["body"] else None


def response_of(interaction: Interaction) -> Any:
    text = interaction["response"]["body"]["string"]
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text  # an export: not JSON


# --- (a) the validator accepts what Google accepted and rejects what it rejected -------------


def recorded_sheets_requests() -> list[tuple[str, int, Interaction]]:
    found = []
    for name in all_cassettes():
        for index, interaction in enumerate(cassette(name)):
            if method_of(interaction["request"]) not in (None, "drive"):
                found.append((name, index, interaction))
    return found


def test_there_are_many_recorded_requests_to_check() -> None:
    assert len(recorded_sheets_requests()) > 1000


def test_every_recorded_request_google_accepted_validates_against_the_discovery_doc() -> None:
    validator = Validator("sheets.v4")
    checked: dict[str, int] = {}
    for name, index, interaction in recorded_sheets_requests():
        if interaction["response"]["status"]["code"] >= 400:
            continue
        request = interaction["request"]
        method_id = method_of(request)
        assert method_id is not None
        query = parse_qs(urlsplit(request["uri"]).query, keep_blank_values=True)
        problems = validator.query(method_id, query)
        schema = validator.method(method_id).get("request")
        if schema is not None and body_of(request) is not None:
            problems += validator.body(schema["$ref"], body_of(request))
        assert problems == [], f"{name} #{index} {request['method']} {request['uri']}"
        checked[method_id] = checked.get(method_id, 0) + 1
    assert checked["sheets.spreadsheets.batchUpdate"] > 200
    assert checked["sheets.spreadsheets.values.batchGet"] >= 4


def test_recorded_schema_errors_are_rejected_with_googles_message() -> None:
    validator = Validator("sheets.v4")
    rejected = 0
    for _name, _index, interaction in recorded_sheets_requests():
        answer = response_of(interaction)
        message = (answer or {}).get("error", {}).get("message", "")
        if not message.startswith(("Invalid value at", "Invalid JSON payload")):
            continue
        request = interaction["request"]
        schema = validator.method(method_of(request) or "")["request"]
        problems = validator.body(schema["$ref"], body_of(request), "data")
        assert [p.description for p in problems] == [message]
        rejected += 1
    assert rejected >= 3


def test_the_validator_rejects_unknown_fields_wrong_types_and_bad_enums() -> None:
    validator = Validator("sheets.v4")
    body = {
        "requests": [
            {"addProtectedRange": {"protectedRange": {"range": {"sheetId": "x"}, "nope": 1}}},
            {"setDataValidation": {"rule": {"condition": {"type": "ONE_OF_NOTHING"}}}},
            {"updateCells": {"rows": [{"values": [{"userEnteredValue": {"boolValue": "yes"}}]}]}},
        ]
    }
    found = [p.description for p in validator.body("BatchUpdateSpreadsheetRequest", body)]
    assert found == [
        "Invalid value at 'requests[0].add_protected_range.protected_range.range.sheet_id'"
        ' (TYPE_INT32), "x"',
        'Invalid JSON payload received. Unknown name "nope" at'
        " 'requests[0].add_protected_range.protected_range': Cannot find field.",
        "Invalid value at 'requests[1].set_data_validation.rule.condition.type'"
        ' (type.googleapis.com/google.apps.sheets.v4.Type), "ONE_OF_NOTHING"',
        "Invalid value at 'requests[2].update_cells.rows[0].values[0].user_entered_value"
        '.bool_value\' (TYPE_BOOL), "yes"',
    ]
    assert validator.query("sheets.spreadsheets.values.batchGet", {"valueRender": ["X"]})


# --- (b) the double answers recorded sessions like Google --------------------------------------


def shape(value: Any) -> Any:
    """Keys recursively and JSON types; a list's shape is the set of its items' shapes."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return sorted({json.dumps(shape(v), sort_keys=True) for v in value})
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def new_ids(answer: Any) -> list[int]:
    """Ids Google generated in a batchUpdate reply, so the double hands out the same ones."""
    found = []
    for reply in (answer or {}).get("replies", []) if isinstance(answer, dict) else []:
        for kind, key, id_key in (
            ("addSheet", "properties", "sheetId"),
            ("addProtectedRange", "protectedRange", "protectedRangeId"),
            ("addFilterView", "filter", "filterViewId"),
        ):
            if kind in reply:
                found.append(int(reply[kind][key][id_key]))
    return found


def replay(name: str) -> list[str]:
    """Play one recorded session against a fresh double; the differences found."""
    double = GoogleDouble(service_account=SA)
    session = double.session(SA)
    differences = []
    for index, interaction in enumerate(cassette(name)):
        request, recorded = interaction["request"], response_of(interaction)
        status = interaction["response"]["status"]["code"]
        parts = urlsplit(request["uri"])
        if parts.path == "/drive/v3/files" and request["method"] == "POST":
            # The recorded test's setup (Drive files.create): a new spreadsheet.
            name = body_of(request)["name"]
            double.create_spreadsheet(name, owner=SA, editors=(), spreadsheet_id=recorded["id"])
            continue
        if parts.path.startswith("/drive/v3/files/") and request["method"] == "DELETE":
            continue  # the recorded test's teardown
        sid = parts.path.split("/")[3].split(":")[0] if "/v4/" in parts.path else ""
        if status == 403 and sid not in double.books:
            double.create_spreadsheet(spreadsheet_id=sid)  # someone else's spreadsheet
        if sid in double.books:
            double.book(sid).planned_ids += new_ids(recorded)
        answer = session.request(
            request["method"],
            request["uri"],
            data=request["body"],
            headers={"Content-Type": "application/json"} if request["body"] else {},
        )
        got = answer.json()
        where = f"#{index} {request['method']} {unquote(request['uri'])}"
        method_id = method_of(request) or ""
        if answer.status_code == 200 and method_id.startswith("sheets."):
            schema = SHEETS.method(method_id)["response"]["$ref"]
            differences += [f"{where}: {p.description}" for p in SHEETS.body(schema, got)]
        if answer.status_code != status:
            differences.append(f"{where}: status {answer.status_code} != {status}: {got}")
        elif method_id.endswith(VALUES_KINDS):
            if got != recorded:
                differences.append(f"{where}: {got} != {recorded}")
        elif shape(got) != shape(recorded):
            differences.append(f"{where}: shape {shape(got)} != {shape(recorded)}")
    return differences


@pytest.mark.parametrize("name", REPLAYED)
def test_the_double_answers_a_recorded_session_like_google(name: str) -> None:
    assert replay(name) == []


def test_other_recorded_sessions_replay_until_a_request_the_double_refuses_to_fake() -> None:
    """Outside sheetflow's subset the double must say "not implemented", never answer wrong."""
    identical, refused = 0, 0
    for name in all_cassettes():
        if name in REPLAYED:
            continue
        differences = replay(name)
        if not differences:
            identical += 1
            continue
        assert "not implement" in differences[0], f"{name}: {differences[0]}"
        refused += 1
    assert identical > 50
    assert refused > 10


def test_the_replayed_sessions_cover_every_operation_sheetflow_uses() -> None:
    seen: set[str] = set()
    for name in REPLAYED:
        for interaction in cassette(name):
            method_id = method_of(interaction["request"]) or ""
            seen.add(method_id)
            body = body_of(interaction["request"])
            if method_id.endswith("spreadsheets.batchUpdate"):
                seen.update(k for r in body["requests"] for k in r)
            if interaction["response"]["status"]["code"] >= 400:
                seen.add("error")
    for needed in (
        "sheets.spreadsheets.get",
        "sheets.spreadsheets.values.batchGet",
        "sheets.spreadsheets.values.batchUpdate",
        "sheets.spreadsheets.values.append",
        "addProtectedRange",
        "deleteProtectedRange",
        "setDataValidation",
        "updateSheetProperties",
        "addSheet",
        "deleteSheet",
        "error",
    ):
        assert needed in seen


def test_no_recorded_session_adds_a_chart_yet() -> None:
    """When one does, add it to REPLAYED: the double's addChart must then match Google."""
    kinds = {
        kind
        for name in all_cassettes()
        for interaction in cassette(name)
        if (method_of(interaction["request"]) or "").endswith("spreadsheets.batchUpdate")
        for request in (body_of(interaction["request"]) or {}).get("requests", [])
        for kind in request
    }
    assert "deleteSheet" in kinds
    assert not {k for k in kinds if "Chart" in k or "EmbeddedObject" in k}


# --- (c) the adapter reads real responses ------------------------------------------------------


def recorded_answers(method_suffix: str) -> list[Any]:
    found = []
    for name in all_cassettes():
        for interaction in cassette(name):
            method_id = method_of(interaction["request"]) or ""
            if (
                method_id.endswith(method_suffix)
                and interaction["response"]["status"]["code"] < 300
            ):
                found.append(response_of(interaction))
    return found


def test_the_adapter_parses_every_recorded_spreadsheet_metadata() -> None:
    answers = [a for a in recorded_answers("spreadsheets.get") if "spreadsheetUrl" in a]
    assert len(answers) > 100
    for answer in answers:
        tabs = gsheets_answers.parse_tabs(answer)
        assert tabs
        assert all(tab.sheet_id >= 0 and tab.title for tab in tabs)
    protected = [t for a in answers for t in gsheets_answers.parse_tabs(a) if t.protections]
    assert protected
    assert protected[0].protections[0].editors


def test_the_streamed_metadata_parse_equals_the_whole_decode_on_every_recorded_answer() -> None:
    answers = [a for a in recorded_answers("spreadsheets.get") if "spreadsheetUrl" in a]
    updates = [a for a in recorded_answers("spreadsheets.batchUpdate") if "updatedSpreadsheet" in a]
    for answer in answers:
        streamed = gsheets_answers.parse_spreadsheet(json.dumps(answer).encode())
        assert gsheets_answers.parse_tabs(streamed) == gsheets_answers.parse_tabs(answer)
    for answer in updates:
        streamed = gsheets_answers.parse_spreadsheet(json.dumps(answer).encode())
        assert streamed["replies"] == answer["replies"]
        tabs = gsheets_answers.parse_tabs(answer["updatedSpreadsheet"])
        assert gsheets_answers.parse_tabs(streamed["updatedSpreadsheet"]) == tabs
    with_locks = [a for a in answers if any(s.get("protectedRanges") for s in a["sheets"])]
    assert with_locks, "the recordings hold protected ranges"
    for answer in with_locks:
        streamed = gsheets_answers.parse_spreadsheet(json.dumps(answer).encode())
        sheets = [s for s in streamed["sheets"] if s.get("protectedRanges")]
        assert all(
            isinstance(s["protectedRanges"], gsheets_protections.Protections) for s in sheets
        ), "each tab's protected ranges are stored compactly while the answer streams in"


def test_the_adapter_parses_every_recorded_value_range() -> None:
    batches = recorded_answers("values.batchGet")
    assert batches
    for answer in batches:
        grids = gsheets_answers.parse_value_ranges(json.dumps(answer).encode())
        assert len(grids) == len(answer["valueRanges"])
        assert grids == [r.get("values", []) for r in answer["valueRanges"]]
    firsts = [gsheets_answers.parse_value_ranges(json.dumps(a).encode())[0][0] for a in batches]
    assert ["A1", "B1"] in firsts
    assert ["🍇"] in firsts
    for answer in recorded_answers("values.get"):
        body = json.dumps({"valueRanges": [answer]}).encode()
        assert gsheets_answers.parse_value_ranges(body) == [answer.get("values", [])]


def new_protection_ids(answer: dict[str, Any]) -> list[int]:
    """The ids of the protected ranges a batchUpdate reply says it added."""
    return [
        int(reply["addProtectedRange"]["protectedRange"]["protectedRangeId"])
        for reply in answer.get("replies", [])
        if "addProtectedRange" in reply
    ]


def test_the_recorded_batch_update_replies_name_the_protections_they_added() -> None:
    replies = recorded_answers("spreadsheets.batchUpdate")
    ids = [i for answer in replies for i in new_protection_ids(answer)]
    assert ids
    assert all(isinstance(i, int) for i in ids)


def test_the_adapter_reads_the_recorded_drive_metadata() -> None:
    drive = [
        response_of(i)
        for name in all_cassettes()
        for i in cassette(name)
        if "/drive/v3/files/" in i["request"]["uri"]
        and i["request"]["method"] == "GET"
        and "modifiedTime" in i["request"]["uri"]
    ]
    assert drive
    assert all(gsheets_answers.parse_version(answer) for answer in drive)


def test_the_adapter_explains_every_recorded_error() -> None:
    errors = [
        (i["response"]["status"]["code"], response_of(i))
        for name in all_cassettes()
        for i in cassette(name)
        if i["response"]["status"]["code"] >= 400 and i["response"]["body"]["string"].strip()
    ]
    assert errors
    for code, answer in errors:
        message = google_calls.error_message(code, answer)
        assert answer["error"]["message"] in message
