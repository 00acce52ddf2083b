"""An in-process, stateful, strict fake of the Google Sheets v4 and Drive v3 APIs.

Mounted under a real gspread `Client` (`GoogleDouble.client(user)`), it serves exactly what
sheetflow uses, plus what gspread's recorded sessions need around it:

    Drive  files.get                     fields among id, name, mimeType, kind, version,
                                         createdTime, modifiedTime; version +1 on every change
    Sheets spreadsheets.get              metadata only (tabs, protections, filter views,
                                         basic filter, charts), `fields` partial responses
           spreadsheets.batchUpdate      atomic; addSheet, deleteSheet, updateSheetProperties,
                                         updateDimensionProperties, updateCells, appendCells,
                                         setDataValidation, add/update/deleteProtectedRange,
                                         add/update/deleteFilterView, set/clearBasicFilter,
                                         addChart (basic charts overlaid on a grid)
           values.get / batchGet         FORMATTED_VALUE, UNFORMATTED_VALUE, FORMULA;
                                         SERIAL_NUMBER or FORMATTED_STRING dates; ROWS/COLUMNS
           values.update / batchUpdate / append / clear   RAW or USER_ENTERED input

Every query string and body is validated against the discovery documents shipped with
google-api-python-client, plus documented rules (condition arity, warning-only protections
without editors, ranges on existing tabs, grid limits, not hiding every tab). Anything else —
another method, another batchUpdate kind, grid data in spreadsheets.get — is refused with a
Google-shaped 400/404, never silently accepted. Edits are made as a user (`as_user`,
`client(user)`): protected cells refuse non-editors with 403, strangers get 403, unknown
spreadsheets 404. Requests are counted by user and discovery method id, and faults (429/5xx,
before or after applying) can be injected per method.
"""

from .server import OWNER, SERVICE_ACCOUNT, Call, GoogleDouble

__all__ = ["OWNER", "SERVICE_ACCOUNT", "Call", "GoogleDouble"]
