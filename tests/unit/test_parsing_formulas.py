"""An amount cell still holding an uncomputed formula is explained, in the book's language."""

from __future__ import annotations

from tests.worded_parsing import parse_amount


def test_a_formula_typed_after_spaces_is_still_told_as_an_uncomputed_formula() -> None:
    amount, problem = parse_amount("  =SUM(A1:A3)", "Amount")
    assert amount is None
    assert problem == (
        "Amount holds the formula =SUM(A1:A3), which no office program has computed yet: open"
        " and save the file in LibreOffice or Excel, or type the amount"
    )


def test_an_uncomputed_formula_is_told_in_russian_in_a_russian_book() -> None:
    _, problem = parse_amount("=B2*1.2", "Сумма", "ru")
    assert problem is not None
    assert problem.startswith("Сумма: формула =B2*1.2 ещё не вычислена")


def test_a_long_formula_is_quoted_to_its_first_forty_characters() -> None:
    formula = "=" + "+".join(f"A{n}" for n in range(1, 30))
    _, problem = parse_amount(formula, "Amount")
    assert f"the formula {formula[:40]}, which" in (problem or "")
