"""The transition table is sound, and the README's diagram is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.schema import load_schema
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
