"""A `Report YYYY-MM` tab as sub-requests of the tick's single atomic batchUpdate.

The tab is replaced whole, like the workbook does: if a tab with that title exists (title
matched ignoring case and surrounding spaces), `deleteSheet` removes it — its cells, formats,
chart and protection go with it — and `addSheet` adds it again **at the same position**
under a fresh sheetId (never one any tab holds at the start of the batch), so the batch can
never leave two tabs with that title nor a half-written report: Google applies all of it or
none. A fresh id rather than the old one: Google documents that an added sheet's id must not
be in use, not whether an id deleted earlier in the same batch may be reused. The price is
that a bookmark to the tab (`#gid=`) does not survive a regeneration; the title does.

Then: header and rows in one `updateCells` (text as stringValue, numbers as numberValue with
a NUMBER pattern per column format, bold header and totals row), the header row frozen (on
`addSheet`), column widths, a column chart of `chart_column` per manager (the totals row
left out) anchored two rows below the table, and a protection of the whole tab that only
the service account may edit (not warning-only).
"""

from __future__ import annotations

from typing import Any

from functions.adapters.gsheets.cells import TAB_LOCK, cell, grid, protection
from functions.model import ReportTab

JSON = dict[str, Any]
NUMBER_FORMATS = {"int": "0", "money": "#,##0.00", "hours": "0.0"}
CHART_GAP = 2  # blank rows between the totals row and the chart
CHART_ROWS = 20  # rows the chart covers (21 px each at the default height)
CHART_SIZE = (720, 360)  # pixels
WIDTHS = (200, 120)  # pixels: the manager column, then every figure column


def report_requests(report: ReportTab, sheet_id: int, index: int | None, robot: str) -> list[JSON]:
    """addSheet, cells, widths, chart and protection of one report tab (already deleted)."""
    table_rows = len(report.rows) + 1  # the header row, then managers, then totals
    width = len(report.headers)
    properties: JSON = {
        "sheetId": sheet_id,
        "title": report.title,
        "gridProperties": {
            "rowCount": table_rows + CHART_GAP + CHART_ROWS,
            "columnCount": width,
            "frozenRowCount": 1,
        },
    }
    if index is not None:
        properties["index"] = index
    requests: list[JSON] = [
        {"addSheet": {"properties": properties}},
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": _rows(report),
                "fields": "userEnteredValue,userEnteredFormat",
            }
        },
        _width(sheet_id, 0, 1, WIDTHS[0]),
    ]
    if width > 1:
        requests.append(_width(sheet_id, 1, width, WIDTHS[1]))
    if len(report.rows) > 1:  # at least one manager besides the totals row
        requests.append(_chart(report, sheet_id))
    requests.append(protection({"sheetId": sheet_id}, TAB_LOCK, robot))
    return requests


def _rows(report: ReportTab) -> list[JSON]:
    header_format = {
        "textFormat": {"bold": True},
        "wrapStrategy": "WRAP",
        "verticalAlignment": "TOP",
    }
    out = [{"values": [{**cell(h), "userEnteredFormat": header_format} for h in report.headers]}]
    last = len(report.rows) - 1
    for number, values in enumerate(report.rows):
        cells = []
        for value, kind in zip(values, report.formats, strict=True):
            fmt: JSON = {}
            if kind in NUMBER_FORMATS:
                fmt["numberFormat"] = {"type": "NUMBER", "pattern": NUMBER_FORMATS[kind]}
            if number == last:
                fmt["textFormat"] = {"bold": True}
            data = cell(value)
            if fmt:
                data["userEnteredFormat"] = fmt
            cells.append(data)
        out.append({"values": cells})
    return out


def _width(sheet_id: int, start: int, end: int, pixels: int) -> JSON:
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": start,
                "endIndex": end,
            },
            "properties": {"pixelSize": pixels},
            "fields": "pixelSize",
        }
    }


def _chart(report: ReportTab, sheet_id: int) -> JSON:
    """Columns of `chart_column` per manager: sheet rows 2..n-1, the totals row left out."""
    managers_end = len(report.rows)  # 0-based, exclusive: the totals row is at this index
    column = report.chart_column
    title = report.headers[column]
    width, height = CHART_SIZE
    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": title,
                    "basicChart": {
                        "chartType": "COLUMN",
                        "legendPosition": "NO_LEGEND",
                        "headerCount": 0,
                        "axis": [
                            {"position": "BOTTOM_AXIS", "title": report.headers[0]},
                            {"position": "LEFT_AXIS", "title": title},
                        ],
                        "domains": [
                            {
                                "domain": {
                                    "sourceRange": {
                                        "sources": [grid(sheet_id, 1, managers_end, 0, 1)]
                                    }
                                }
                            }
                        ],
                        "series": [
                            {
                                "series": {
                                    "sourceRange": {
                                        "sources": [
                                            grid(sheet_id, 1, managers_end, column, column + 1)
                                        ]
                                    }
                                },
                                "targetAxis": "LEFT_AXIS",
                            }
                        ],
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {
                            "sheetId": sheet_id,
                            "rowIndex": len(report.rows) + 1 + CHART_GAP,
                            "columnIndex": 0,
                        },
                        "widthPixels": width,
                        "heightPixels": height,
                    }
                },
            }
        }
    }
