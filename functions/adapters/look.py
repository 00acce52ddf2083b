"""How a sheetflow book looks, whichever backend holds it: the workbook and the Google Sheet
show the same colours (each renders them its own way: workbook/style.py, gsheets/layout.py)."""

from __future__ import annotations

# Status → fill colour (light, printable): waiting on someone is amber, moving green, done grey.
STATUS_FILLS = {
    "new": "FFF2CC",
    "awaiting_decision": "FCE4D6",
    "rework": "F8CBAD",
    "awaiting_accountant": "DDEBF7",
    "in_payment": "C6EFCE",
    "awaiting_closing_docs": "E2EFDA",
    "closed": "D9D9D9",
}
