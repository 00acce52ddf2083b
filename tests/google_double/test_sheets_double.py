"""The Sheets double itself: strict like Google, stateful, and countable."""

from __future__ import annotations

from typing import Any

import gspread
import pytest

from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.discovery import Validator
from tests.google_double.protection import visible_rows

PERSON = "mia@example.com"


@pytest.fixture
def double() -> GoogleDouble:
    return GoogleDouble()


@pytest.fixture
def sid(double: GoogleDouble) -> str:
    return double.create_spreadsheet("t", editors=(SERVICE_ACCOUNT, PERSON))


def batch(
    double: GoogleDouble, sid: str, *requests: dict[str, Any], user: str = SERVICE_ACCOUNT
) -> Any:
    return double.client(user).http_client.batch_update(sid, {"requests": list(requests)})


def values(double: GoogleDouble, sid: str, text: str, how: str = "UNFORMATTED_VALUE") -> Any:
    answer = double.client().http_client.values_get(sid, text, params={"valueRenderOption": how})
    return answer.get("values", [])


def protect(editors: Any, warning: bool = False) -> dict[str, Any]:
    protected: dict[str, Any] = {"range": {"sheetId": 0, "endRowIndex": 1}, "warningOnly": warning}
    if editors is not None:
        protected["editors"] = editors
    return {"addProtectedRange": {"protectedRange": protected}}


def test_a_warning_only_protection_with_editors_is_refused(double: GoogleDouble, sid: str) -> None:
    with pytest.raises(gspread.exceptions.APIError, match="warningOnly. Editors cannot be set"):
        batch(double, sid, protect({"users": [PERSON]}, warning=True))
    batch(double, sid, protect(None, warning=True))


def test_ranges_must_address_existing_tabs(double: GoogleDouble, sid: str) -> None:
    with pytest.raises(gspread.exceptions.APIError, match="Unable to parse range: 'Nope'!A1"):
        values(double, sid, "'Nope'!A1")
    cell = {"start": {"sheetId": 42}, "rows": [], "fields": "userEnteredValue"}
    with pytest.raises(gspread.exceptions.APIError, match="No grid with id: 42"):
        batch(double, sid, {"updateCells": cell})


def test_what_it_does_not_implement_is_refused_never_ignored(
    double: GoogleDouble, sid: str
) -> None:
    with pytest.raises(gspread.exceptions.APIError, match="mergeCells: not implemented") as caught:
        batch(double, sid, {"mergeCells": {"range": {"sheetId": 0}, "mergeType": "MERGE_ALL"}})
    assert caught.value.response.status_code == 400
    http = double.client().http_client
    with pytest.raises(gspread.exceptions.APIError, match="does not implement") as caught:
        http.values_batch_clear(sid, body={"ranges": ["A1"]})
    assert caught.value.response.status_code == 404
    with pytest.raises(gspread.exceptions.APIError, match='Unknown name "colour"'):
        http.values_get(sid, "A1", params={"colour": "red"})
    with pytest.raises(gspread.exceptions.APIError, match="TYPE_ENUM"):
        http.values_get(sid, "A1", params={"valueRenderOption": "PRETTY"})


def test_raw_text_stays_literal_and_user_entered_is_parsed_like_typing(
    double: GoogleDouble, sid: str
) -> None:
    http = double.client().http_client
    http.values_update(sid, "A1", {"valueInputOption": "RAW"}, {"values": [["=1+1", "42"]]})
    typed = [["=1+1", "42", "1,234.5", "2020-01-01", "'=x", "TRUE", "= 1 / 1024"]]
    http.values_update(sid, "A2", {"valueInputOption": "USER_ENTERED"}, {"values": typed})
    assert values(double, sid, "A1:G2") == [
        ["=1+1", "42"],
        [2, 42, 1234.5, 43831, "=x", True, 0.0009765625],
    ]
    assert values(double, sid, "A2:D2", "FORMATTED_VALUE") == [["2", "42", "1,234.5", "2020-01-01"]]
    assert values(double, sid, "A2", "FORMULA") == [["=1+1"]]


def test_a_person_cannot_edit_a_protected_cell_and_the_whole_batch_is_refused(
    double: GoogleDouble, sid: str
) -> None:
    batch(double, sid, protect({"users": []}))  # row 1, for the requester (and the owner)
    http = double.client(PERSON).http_client
    before = double.book(sid).version
    data = [{"range": "A5", "values": [["free"]]}, {"range": "A1", "values": [["taken"]]}]
    with pytest.raises(gspread.exceptions.APIError, match="protected cell") as caught:
        http.values_batch_update(sid, {"valueInputOption": "RAW", "data": data})
    assert caught.value.response.status_code == 403
    assert values(double, sid, "A1:A5") == []
    assert double.book(sid).version == before
    double.client(OWNER).http_client.values_update(
        sid, "A1", {"valueInputOption": "RAW"}, {"values": [["owner may"]]}
    )


def test_the_drive_version_grows_with_every_change_and_not_with_reads(
    double: GoogleDouble, sid: str
) -> None:
    http = double.client().http_client

    def version() -> int:
        url = f"https://www.googleapis.com/drive/v3/files/{sid}"
        return int(http.request("get", url, params={"fields": "version"}).json()["version"])

    first = version()
    values(double, sid, "A1")
    assert version() == first
    http.values_update(sid, "A1", {"valueInputOption": "RAW"}, {"values": [["x"]]})
    batch(double, sid, {"addSheet": {"properties": {"title": "Two"}}})
    assert version() == first + 2


def test_requests_are_counted_by_kind_and_by_user(double: GoogleDouble, sid: str) -> None:
    mark = double.mark()
    values(double, sid, "A1")
    with double.as_user(PERSON):
        values(double, sid, "A1")
    assert double.count(since=mark) == 2
    assert double.count(since=mark, user=PERSON) == 1
    assert double.kinds(mark, user=SERVICE_ACCOUNT) == ["sheets.spreadsheets.values.get"]


def test_injected_faults_answer_like_google_then_service_resumes(
    double: GoogleDouble, sid: str
) -> None:
    double.fail("sheets.spreadsheets.values.get", 429)
    with pytest.raises(gspread.exceptions.APIError, match="Quota exceeded") as caught:
        values(double, sid, "A1")
    assert caught.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert values(double, sid, "A1") == []


def test_hiding_every_tab_is_refused(double: GoogleDouble, sid: str) -> None:
    hide = {"properties": {"sheetId": 0, "hidden": True}, "fields": "hidden"}
    with pytest.raises(gspread.exceptions.APIError, match="can't hide all the sheets"):
        batch(double, sid, {"updateSheetProperties": hide})


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (
            {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=Nope!A1:A9"}]},
            "invalid range",
        ),
        ({"type": "ONE_OF_RANGE"}, "wrong number of condition values"),
        ({"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "=A1"}]}, "formulas"),
        ({"type": "BLANK"}, "not supported by data validation"),
    ],
)
def test_data_validation_follows_the_documented_rules(
    double: GoogleDouble, sid: str, condition: dict[str, Any], problem: str
) -> None:
    rule = {"range": {"sheetId": 0, "endRowIndex": 5}, "rule": {"condition": condition}}
    with pytest.raises(gspread.exceptions.APIError, match=problem):
        batch(double, sid, {"setDataValidation": rule})


def test_a_filter_view_shows_the_rows_its_formula_accepts(double: GoogleDouble, sid: str) -> None:
    double.client().http_client.values_update(
        sid, "A1", {"valueInputOption": "RAW"}, {"values": [["ID"], ["a"], ["b"], ["c"]]}
    )
    formula = '=REGEXMATCH(TO_TEXT($A2),"^(a|c)$")'
    view = {
        "title": "Mine",
        "range": {"sheetId": 0},
        "filterSpecs": [
            {
                "columnIndex": 0,
                "filterCriteria": {
                    "condition": {
                        "type": "CUSTOM_FORMULA",
                        "values": [{"userEnteredValue": formula}],
                    }
                },
            }
        ],
    }
    reply = batch(double, sid, {"addFilterView": {"filter": view}})
    assert reply["replies"][0]["addFilterView"]["filter"]["range"]["endRowIndex"] == 1000
    book = double.book(sid)
    assert visible_rows(book, book.sheets[0], book.sheets[0].filter_views[0]) == [2, 4]


def test_strangers_get_403_and_unknown_spreadsheets_404(double: GoogleDouble, sid: str) -> None:
    with pytest.raises(PermissionError):  # gspread's word for Google's 403
        double.client("stranger@example.com").open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError, match="does not have permission"):
        double.client("stranger@example.com").http_client.values_get(sid, "A1")
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        double.client().open_by_key("nope")


# --- charts ----------------------------------------------------------------------------------


def column(row0: int, row1: int, col: int, sheet_id: int = 0) -> dict[str, Any]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": row0,
        "endRowIndex": row1,
        "startColumnIndex": col,
        "endColumnIndex": col + 1,
    }


def chart(
    domain: dict[str, Any] | None = None, series: dict[str, Any] | None = None, **spec: Any
) -> dict[str, Any]:
    basic = {
        "chartType": "COLUMN",
        "domains": [{"domain": {"sourceRange": {"sources": [domain or column(1, 3, 0)]}}}],
        "series": [{"series": {"sourceRange": {"sources": [series or column(1, 3, 1)]}}}],
    }
    return {
        "addChart": {
            "chart": {
                "spec": {"title": "Paid", "basicChart": basic, **spec},
                "position": {"overlayPosition": {"anchorCell": {"sheetId": 0, "rowIndex": 5}}},
            }
        }
    }


def test_a_chart_is_kept_on_its_tab_shown_like_google_and_goes_with_the_tab(
    double: GoogleDouble, sid: str
) -> None:
    schema = Validator("sheets.v4")
    reply = batch(double, sid, chart())
    assert schema.body("BatchUpdateSpreadsheetResponse", reply) == []
    added = reply["replies"][0]["addChart"]["chart"]
    assert added["chartId"] > 0
    overlay = added["position"]["overlayPosition"]
    assert overlay == {"anchorCell": {"rowIndex": 5}, "widthPixels": 600, "heightPixels": 371}
    assert added["spec"]["basicChart"]["domains"][0]["domain"]["sourceRange"]["sources"] == [
        {"startRowIndex": 1, "endRowIndex": 3, "endColumnIndex": 1}  # zeros left out
    ]
    meta = (
        double.client()
        .http_client.request("get", f"https://sheets.googleapis.com/v4/spreadsheets/{sid}")
        .json()
    )
    assert schema.body("Spreadsheet", meta) == []
    assert meta["sheets"][0]["charts"] == [added]
    two = batch(double, sid, {"addSheet": {"properties": {"title": "Two"}}})
    two_id = two["replies"][0]["addSheet"]["properties"]["sheetId"]
    batch(double, sid, {"deleteSheet": {"sheetId": 0}})
    assert [s.charts for s in double.book(sid).sheets] == [[]]
    assert double.book(sid).sheets[0].id == two_id


def two_sources(*sources: dict[str, Any]) -> dict[str, Any]:
    """A chart whose series has these two source ranges (and its domain one)."""
    request = chart()
    basic = request["addChart"]["chart"]["spec"]["basicChart"]
    basic["series"][0]["series"]["sourceRange"]["sources"] = list(sources)
    return request


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (chart(domain=column(1, 3, 0) | {"endColumnIndex": 2}), "one row or one column"),
        (chart(series=column(1, 3, 1, sheet_id=9)), "No grid with id: 9"),
        (chart(series=column(1, 2000, 1)), "exceeds grid limits"),
        (two_sources(column(1, 3, 0), column(1, 3, 1)), "same number of source ranges"),
        (
            two_sources(
                column(1, 3, 1), {"startRowIndex": 5, "endRowIndex": 6, "endColumnIndex": 2}
            ),
            "same dimension",
        ),
        (chart(pieChart={}), "exactly one chart type"),
        (chart(basicChart=None, pieChart={"legendPosition": "NO_LEGEND"}), "pieChart is not"),
        (chart(basicChart={"series": []}), "chartType must be specified"),
        (chart(basicChart={"chartType": "BAR", "domains": [{}, {}]}), "single domain"),
        (chart(basicChart={"chartType": "PIE"}), r"Invalid value at .*chart_type"),
        (chart(basicChart={"chartType": "BAR", "colour": 1}), 'Unknown name "colour"'),
    ],
)
def test_a_chart_follows_the_documented_rules(
    double: GoogleDouble, sid: str, request_: dict[str, Any], problem: str
) -> None:
    with pytest.raises(gspread.exceptions.APIError, match=problem) as caught:
        batch(double, sid, request_)
    assert caught.value.response.status_code == 400
    assert double.book(sid).sheets[0].charts == []


def test_a_chart_needs_a_free_id_an_anchor_inside_the_grid_and_edit_rights(
    double: GoogleDouble, sid: str
) -> None:
    first = batch(double, sid, chart())["replies"][0]["addChart"]["chart"]["chartId"]
    taken = chart()
    taken["addChart"]["chart"]["chartId"] = first
    with pytest.raises(gspread.exceptions.APIError, match="already exists"):
        batch(double, sid, taken)
    outside = chart()
    outside["addChart"]["chart"]["position"]["overlayPosition"]["anchorCell"]["rowIndex"] = 1000
    with pytest.raises(gspread.exceptions.APIError, match="anchor cell .* exceeds grid limits"):
        batch(double, sid, outside)
    own_sheet = chart()
    own_sheet["addChart"]["chart"]["position"] = {"newSheet": True}
    with pytest.raises(gspread.exceptions.APIError, match="not implemented"):
        batch(double, sid, own_sheet)
    whole = {"range": {"sheetId": 0}, "warningOnly": False, "editors": {"users": []}}
    batch(double, sid, {"addProtectedRange": {"protectedRange": whole}})
    with pytest.raises(gspread.exceptions.APIError, match="protected") as caught:
        batch(double, sid, chart(), user=PERSON)
    assert caught.value.response.status_code == 403
    assert len(double.book(sid).sheets[0].charts) == 1


def colour_rule(
    condition: dict[str, Any] | None = None,
    fmt: dict[str, Any] | None = None,
    ranges: list[dict[str, Any]] | None = None,
    index: int = 0,
) -> dict[str, Any]:
    """addConditionalFormatRule as production sends it (a Status column), parts replaceable."""
    boolean = {
        "condition": condition or {"type": "TEXT_EQ", "values": [{"userEnteredValue": "New"}]},
        "format": fmt
        if fmt is not None
        else {"backgroundColorStyle": {"rgbColor": {"red": 1, "green": 0.95, "blue": 0.8}}},
    }
    target = ranges if ranges is not None else [{"sheetId": 0, "startRowIndex": 1}]
    rule = {"ranges": target, "booleanRule": boolean}
    return {"addConditionalFormatRule": {"rule": rule, "index": index}}


def test_a_conditional_format_rule_is_kept_in_order_shown_like_google_and_goes_with_the_tab(
    double: GoogleDouble, sid: str
) -> None:
    schema = Validator("sheets.v4")
    closed = {"type": "TEXT_EQ", "values": [{"userEnteredValue": "Closed"}]}
    # New at 0, Closed after it, another rule inserted between them: indexes shift on.
    batch(double, sid, colour_rule(), colour_rule(closed, index=1), colour_rule(index=1))
    url = f"https://sheets.googleapis.com/v4/spreadsheets/{sid}?fields=sheets.conditionalFormats"
    meta = double.client().http_client.request("get", url).json()
    assert schema.body("Spreadsheet", meta) == []
    rules = meta["sheets"][0]["conditionalFormats"]
    assert len(rules) == 3
    assert rules[0]["ranges"] == [{"startRowIndex": 1}]  # zeros left out, as Google answers
    assert rules[2]["booleanRule"]["condition"]["values"] == [{"userEnteredValue": "Closed"}]
    assert rules[0]["booleanRule"]["format"]["backgroundColorStyle"]["rgbColor"]["red"] == 1
    batch(double, sid, {"addSheet": {"properties": {"title": "Two"}}})
    batch(double, sid, {"deleteSheet": {"sheetId": 0}})
    assert [s.conditional_formats for s in double.book(sid).sheets] == [[]]


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (colour_rule(ranges=[]), "at least one range"),
        (colour_rule(ranges=[{"sheetId": 0, "startColumnIndex": 30}]), "exceeds grid limits"),
        (colour_rule(ranges=[{"sheetId": 9}]), "No grid with id: 9"),
        (colour_rule(condition={"type": "ONE_OF_LIST", "values": []}), "not supported by cond"),
        (colour_rule(condition={"type": "TEXT_EQ"}), "wrong number of condition values"),
        (
            colour_rule(
                condition={"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": "A"}]}
            ),
            "must start with '='",
        ),
        (colour_rule(fmt={}), "needs a format"),
        (colour_rule(fmt={"numberFormat": {"type": "NUMBER"}}), "not numberFormat"),
        (colour_rule(fmt={"textFormat": {"fontSize": 20}}), "not textFormat.fontSize"),
        (colour_rule(index=2), "outside the sheet's 1 conditional format rules"),
        (colour_rule(fmt={"backgroundColour": {}}), 'Unknown name "backgroundColour"'),
        (colour_rule(condition={"type": "TEXT_IS"}), r"Invalid value at .*type"),
    ],
)
def test_a_conditional_format_rule_follows_the_documented_rules(
    double: GoogleDouble, sid: str, request_: dict[str, Any], problem: str
) -> None:
    with pytest.raises(gspread.exceptions.APIError, match=problem) as caught:
        batch(double, sid, colour_rule(), request_)  # the good first rule goes too
    assert caught.value.response.status_code == 400
    assert double.book(sid).sheets[0].conditional_formats == []
