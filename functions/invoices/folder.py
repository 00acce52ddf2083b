"""The invoices folder: files new in it become Invoices rows (pure: the adapters list and read).

A folder adapter (`adapters/folders/local.py`, `adapters/folders/drive.py`) returns the files it
has not seen before, each with what its PDF text says; this module decides, inside the tick's
plan, what each file becomes:

- a file whose link already is some row's Invoice file (the manager pasted it) joins that row;
- a file whose invoice number is that of an invoice in Rework is that invoice's new scan: its
  Invoice file cell gets the new link (compare-and-set), and the flow resubmits it;
- anything else is a new row (RowAppend) with an ID from the planner's counter, Invoice file =
  the link, Manager = the person in People who added the file, the values the PDF gave, and a
  Note saying which values were read from the file (or why it could not be read).

Every file seen is remembered in meta (`folder.seen`: file key → record), committed with the
tick's journal, so a file never makes a second row, also across crashes, renames and moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.flow_context import FlowContext
from functions.invoices.prefill import FIELDS, Prefill, read_invoice
from functions.meta import FOLDER, NEXT_INVOICE_NO
from functions.model import (
    JSON,
    BookRead,
    CellWrite,
    FolderFile,
    FolderScan,
    RowAppend,
    Stored,
    TickPlan,
    stored,
)
from functions.text.parsing import same_text, text


def folder_meta(meta: Mapping[str, Any]) -> JSON:
    found = meta.get(FOLDER)
    return dict(found) if isinstance(found, dict) else {}


def folder_news(scan: FolderScan | None, meta: Mapping[str, Any]) -> bool:
    """Whether the folder has something for the sheet: new files, or a problem came or went."""
    if scan is None:
        return False
    return bool(scan.files) or scan.problem != folder_meta(meta).get("problem_kind")


def pending_notices(meta: Mapping[str, Any]) -> dict[str, str]:
    """Notes for rows appended from the folder that the planner has not yet seen."""
    return dict(folder_meta(meta).get("notices") or {})


def plan_folder(
    scan: FolderScan | None, read: BookRead, ctx: FlowContext, plan: TickPlan, planned: set[str]
) -> None:
    """Add the scan's rows, scans and notes to `plan`; update its meta."""
    state = folder_meta(plan.meta)
    notices = {r: n for r, n in (state.get("notices") or {}).items() if r not in planned}
    if scan is None:
        if not ctx.settings.invoices_folder.strip() and state.get("location"):
            # Settings no longer name a folder: stop looking, and take back any note on it.
            _settings_note(FolderScan(""), read, ctx, plan, state)
            state.update(location=None, cursor=None)
        if notices != (state.get("notices") or {}) or state != folder_meta(plan.meta):
            plan.meta[FOLDER] = {**state, "notices": notices}
        return
    if scan.location != state.get("location"):
        state = {"seen": state.get("seen") or {}}
    seen: dict[str, str] = dict(state.get("seen") or {})
    _settings_note(scan, read, ctx, plan, state)
    rows = read.table("invoices").rows
    by_link = {text(r.get("invoice_file")): r for r in rows if text(r.get("invoice_file"))}
    rework = ctx.label("rework")
    in_rework = [r for r in rows if same_text(r.get("status"), rework) and text(r.get("id"))]
    prefix = ctx.schema.tab("invoices").id_prefix or ""
    next_no = int(plan.meta.get(NEXT_INVOICE_NO, 1))
    assigned = {  # rows typed since the last tick get their ID in this same plan
        w.row: w.value
        for w in plan.changes.writes
        if w.tab == "invoices" and w.record is None and w.column == "id"
    }
    for file in sorted(scan.files, key=lambda f: (f.name, f.key)):
        if file.key in seen:
            continue
        linked = by_link.get(file.link) or _linked_by_id(file, by_link)
        joined = text(linked.get("id")) or assigned.get(linked.number) if linked else None
        if joined:
            seen[file.key] = str(joined)
            continue
        found = read_invoice(file.text) if file.text else Prefill()
        number = text(found.values.get("invoice_no"))
        target = next(
            (r for r in in_rework if number and same_text(r.get("invoice_no"), number)), None
        )
        if target is not None:
            record = text(target.get("id"))
            current = stored(target.get("invoice_file"))
            plan.changes.writes.append(
                CellWrite("invoices", record, target.number, "invoice_file", file.link, current)
            )
            plan.changes.log.append(
                ctx.log(record, "new scan", from_=text(current), to=file.link, details=file.name)
            )
            seen[file.key] = record
            continue
        record = f"{prefix}{next_no:06d}"
        next_no += 1
        values: dict[str, Stored] = {"id": record, "invoice_file": file.link}
        manager = next((p for who in file.added_by if (p := ctx.people.find(who, "manager"))), None)
        if manager is not None:
            values["manager"] = manager.name
        values.update({k: v for k, v in found.values.items() if k in FIELDS})
        notices[record] = _notice(file, found, ctx)
        plan.changes.appends.append(RowAppend("invoices", record, values))
        plan.changes.log.append(
            ctx.log(record, "from folder", by=text(values.get("manager")), details=file.name)
        )
        plan.problems.append(f"{record}: {file.name} → {notices[record]}")
        seen[file.key] = record
    plan.meta[NEXT_INVOICE_NO] = next_no
    plan.meta[FOLDER] = {
        **state,
        "location": scan.location,
        "cursor": scan.cursor,
        "seen": seen,
        "notices": notices,
    }


def _linked_by_id(file: FolderFile, by_link: Mapping[str, Any]) -> Any:
    """A row holding another link to the same Drive file (`…/d/ID/view?usp=sharing`)."""
    if not file.key.startswith("drive:"):
        return None
    file_id = file.key.removeprefix("drive:")
    return next((row for link, row in by_link.items() if file_id in link), None)


def _notice(file: FolderFile, found: Prefill, ctx: FlowContext) -> str:
    if file.kind == "other":
        return ctx.say("folder_not_invoice", name=file.name)
    if file.kind == "image" or file.problem == "no_text":
        return ctx.say("folder_no_text", name=file.name)
    if file.problem:
        return ctx.say(f"folder_{file.problem}", name=file.name)
    read = [ctx.header(k) for k in FIELDS if k in found.values]
    if not read:
        return ctx.say("folder_not_recognised", name=file.name)
    fields = ", ".join(read)
    if found.tax_id:
        label = "ИНН" if found.layout == "ru" else ctx.say("folder_tax_id_label")
        fields += f" ({label} {found.tax_id})"
    return ctx.say("folder_prefilled", fields=fields, signer=ctx.header("signer"))


def _settings_note(
    scan: FolderScan, read: BookRead, ctx: FlowContext, plan: TickPlan, state: JSON
) -> None:
    """A folder that cannot be read: one Log line when it starts, and a note on Settings."""
    note = (
        ctx.say(f"folder_{scan.problem}", folder=scan.location, detail=scan.detail)
        if (scan.problem)
        else None
    )
    if note != state.get("problem"):
        if note:
            plan.changes.log.append(ctx.log("*", "problem", flow="folder", details=note))
            plan.problems.append(note)
        state["problem"] = note
    state["problem_kind"] = scan.problem
    label = ctx.schema.labels.settings_keys["invoices_folder_note"][ctx.locale]
    row = next((r for r in read.table("settings").rows if same_text(r.get("key"), label)), None)
    if row is None:
        if note:
            plan.changes.appends.append(RowAppend("settings", label, {"key": label, "value": note}))
    elif stored(row.get("value")) != note:
        plan.changes.writes.append(
            CellWrite("settings", label, row.number, "value", note, stored(row.get("value")))
        )
