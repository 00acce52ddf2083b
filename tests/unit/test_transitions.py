"""The transition table is sound, and the README's diagram is generated from it."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from functions import transitions
from functions.invoices import step as invoice_step
from functions.invoices.emails import RECIPIENTS
from functions.invoices.step import InvoiceStep
from functions.schema import load_schema
from functions.template_files import missing_locales
from functions.text.catalog import catalog_path
from functions.transitions import (
    FINAL,
    STATUSES,
    TRANSITIONS,
    InvalidDefinition,
    Transition,
    check_definition,
    mermaid,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_status_is_reachable_and_only_closed_is_final() -> None:
    check_definition()
    sources = {t.source for t in TRANSITIONS}
    assert FINAL == {"closed"}
    assert set(STATUSES) - sources == {"closed"}


def test_a_table_with_an_unreachable_status_is_refused_when_defined() -> None:
    broken = tuple(t for t in TRANSITIONS if t.trigger != "claimed")
    with pytest.raises(InvalidDefinition, match="unreachable"):
        check_definition(broken)


def test_a_table_leaving_the_final_status_is_refused() -> None:
    reopen = Transition("reopened", "closed", "new", "never", "manager")
    with pytest.raises(InvalidDefinition, match="final"):
        check_definition((*TRANSITIONS, reopen))


def test_every_status_has_a_label_in_every_locale() -> None:
    labels = load_schema().labels.statuses
    assert set(labels) == set(STATUSES)
    assert all(set(names) == {"en", "ru"} for names in labels.values())


def test_readme_state_diagram_matches_the_transition_table() -> None:
    labels = {k: v["en"] for k, v in load_schema().labels.statuses.items()}
    block = re.search(r"```mermaid\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "README.md has no mermaid block"
    assert block.group(1).strip() == mermaid(labels).strip()


def test_a_transition_to_an_unknown_status_is_refused_and_named() -> None:
    typo = Transition("lost", "new", "nowhere", "never", "manager")
    with pytest.raises(InvalidDefinition, match="^lost: unknown status new → nowhere$"):
        check_definition((*TRANSITIONS, typo))


def test_statuses_reached_only_through_an_unreachable_one_are_unreachable_too() -> None:
    broken = tuple(t for t in TRANSITIONS if t.trigger != "claimed")
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(broken)
    assert str(caught.value) == (
        "unreachable statuses: ['awaiting_closing_docs', 'closed', 'in_payment']"
    )


def test_a_reachable_status_with_no_way_out_is_refused_and_named() -> None:
    shortcut = Transition("closed_early", "in_payment", "closed", "never", "manager")
    broken = (*(t for t in TRANSITIONS if t.trigger != "closed"), shortcut)
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(broken)
    assert str(caught.value) == "statuses with no way out: ['awaiting_closing_docs']"


# -- the declared machine: guards, effects, recipients and templates ------------------------

ESCALATED = Transition(
    "escalated",
    "awaiting_decision",
    "awaiting_decision",
    "nobody decided for a week",
    "manager",
    guard="another_signer_chosen",
    effect="ask_signer",
)


def check_machine(*extra: Transition) -> None:
    check_definition(
        (*TRANSITIONS, *extra),
        step=InvoiceStep,
        recipients=RECIPIENTS,
        missing_locales=missing_locales,
    )


def test_the_invoice_machine_names_a_guard_an_effect_a_rule_and_a_template_for_every_step() -> None:
    check_machine()
    assert all(t.guard and t.effect for t in TRANSITIONS)


def test_a_trigger_with_no_guard_is_refused_and_named() -> None:
    with pytest.raises(InvalidDefinition, match="^escalated: no guard$"):
        check_machine(replace(ESCALATED, guard=""))


def test_a_trigger_with_no_effect_is_refused_and_named() -> None:
    with pytest.raises(InvalidDefinition, match="^escalated: no effect$"):
        check_machine(replace(ESCALATED, effect=""))


def test_a_guard_or_effect_the_step_does_not_have_is_refused_and_named() -> None:
    with pytest.raises(InvalidDefinition, match="^escalated: guard overdue is not a method of"):
        check_machine(replace(ESCALATED, guard="overdue"))
    with pytest.raises(InvalidDefinition, match="^escalated: effect remind is not a method of"):
        check_machine(replace(ESCALATED, effect="remind"))
    with pytest.raises(InvalidDefinition, match="^escalated: effect _now is not a method of"):
        check_machine(replace(ESCALATED, effect="_now"))  # helpers are not steps


def test_an_email_with_no_recipient_rule_is_refused_and_named() -> None:
    with pytest.raises(
        InvalidDefinition, match="^escalated: email reminder has no recipient rule$"
    ):
        check_machine(replace(ESCALATED, emails=("reminder",)))


def test_an_email_with_no_template_is_refused_with_the_locales_it_lacks() -> None:
    reminder = replace(ESCALATED, emails=("reminder",))
    with pytest.raises(InvalidDefinition) as caught:
        check_definition(
            (*TRANSITIONS, reminder),
            step=InvoiceStep,
            recipients={*RECIPIENTS, "reminder"},
            missing_locales=missing_locales,
        )
    assert str(caught.value) == "escalated: email reminder has no template in ['en', 'ru']"


def test_a_template_is_missing_in_a_locale_whose_catalog_is_missing(tmp_path: Path) -> None:
    (tmp_path / "reminder.j2").write_text("{% block subject %}{% endblock %}", encoding="utf-8")
    assert missing_locales("reminder", tmp_path) == ["ru"]
    catalog = catalog_path(tmp_path, "ru")
    catalog.parent.mkdir(parents=True)
    catalog.write_text("", encoding="utf-8")
    assert missing_locales("reminder", tmp_path) == []
    assert missing_locales("signer_request") == []


@pytest.fixture
def fresh_step_module() -> Iterator[None]:
    """Reload invoice_step after the test, so the flow keeps the real machine."""
    yield
    importlib.reload(invoice_step)


@pytest.mark.usefixtures("fresh_step_module")
def test_a_broken_machine_fails_when_the_step_module_is_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transitions, "TRANSITIONS", (*TRANSITIONS, replace(ESCALATED, guard="")))
    with pytest.raises(InvalidDefinition, match="^escalated: no guard$"):
        importlib.reload(invoice_step)
