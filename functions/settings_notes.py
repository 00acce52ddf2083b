"""Settings problems said once, where people look: a Note beside the value, a line of output.

Each tick re-checks Settings (pure). The Note column of the key's row carries the problem
while it lasts and is emptied once it is fixed; the tick's output says a problem the first
time it is seen, again only when it changes, and says when it is fixed. What was said is
remembered in the state's meta (`settings_notes`: key → sentence), committed with the tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from functions.meta import SETTINGS_NOTES
from functions.model import CellWrite, RowAppend, SheetRow, TableRead, TickPlan, stored
from functions.schema import Locale, Schema
from functions.text.parsing import text


def settings_key(row: SheetRow, schema: Schema) -> str | None:
    """The setting a Settings row is about (its Key in either language), or None."""
    typed = text(row.get("key")).casefold()
    for key, labels in schema.labels.settings_keys.items():
        if any(label.casefold() == typed for label in labels.values()):
            return key
    return None


def plan_settings_notes(
    table: TableRead,
    problems: Mapping[str, str],
    schema: Schema,
    locale: Locale,
    plan: TickPlan,
    say: Callable[..., str],
) -> None:
    """Notes to write or empty, sentences to print, and what was said, into `plan`.

    `say(key, **fields)` is a sentence in the book's language.
    A Note cell holding something sheetflow did not write is left as it is: a person's text
    is never deleted (the problem is still printed).
    """
    said: dict[str, str] = dict(plan.meta.get(SETTINGS_NOTES) or {})
    labels = schema.labels.settings_keys
    for key, sentence in problems.items():
        if said.get(key) != sentence:
            plan.problems.append(sentence)
    for key in said.keys() - problems.keys():
        if key in labels:
            plan.problems.append(say("settings_fixed", setting=labels[key][locale]))
    ours = {*said.values(), *problems.values()}
    first: dict[str, SheetRow] = {}
    for row in table.rows:
        found = settings_key(row, schema)
        if found is not None and found not in first:
            first[found] = row
    for row in table.rows:
        found = settings_key(row, schema)
        wanted = problems.get(found) if found and first[found] is row else None
        current = stored(row.get("note"))
        if current == wanted or (current is not None and current not in ours):
            continue
        record = text(row.get("key"))
        if not record:
            continue
        write = CellWrite("settings", record, row.number, "note", wanted, current)
        plan.changes.writes.append(write)
    for key, sentence in problems.items():
        if key not in first and key in labels:  # the row was deleted: it comes back, with why
            label = labels[key][locale]
            plan.changes.appends.append(
                RowAppend("settings", label, {"key": label, "note": sentence})
            )
    plan.meta[SETTINGS_NOTES] = dict(problems)
