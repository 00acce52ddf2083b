# sheetflow — `make demo` plays the story on a local workbook, `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all demo test check lint types bench profile soak mutate clean catalog screenshots

all: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sheetflow demo --dir demo

test: $(STAMP)
	$(BIN)/pytest -q

# Not in CI: prints the cost of a tick at 1k/10k/100k rows (about 10 minutes).
bench: $(STAMP)
	$(BIN)/python bench/bench.py
	$(BIN)/python -m bench.folder
	$(BIN)/python -m bench.bitrix
	$(BIN)/python -m bench.protections

# Not in CI: pyinstrument call trees of the engine and a busy workbook tick (10k + 10k rows).
profile: $(STAMP)
	$(BIN)/python -m bench.profile --rows 10000

# Not in CI: 1,000 ticks of random edits on a 2,000-row workbook, invariants checked after each.
soak: $(STAMP)
	$(BIN)/python -m tests.soak --ticks 1000 --rows 2000 --progress 50

# Not in CI: mutmut over the pure core against the unit tests (about 100 minutes here), then the
# score per module; survivors no test can kill are listed in tests/mutants_equivalent.txt.
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python -m tests.mutation_score

# The README's pictures: the demo book and one email, printed by LibreOffice (PDF → PNG).
SCREENSHOTS ?= docs/img
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py --out $(SCREENSHOTS)

# After editing an email template: refresh the Russian catalog, then translate what is new.
catalog: $(STAMP)
	$(BIN)/pybabel extract -F templates/babel.cfg --no-location --omit-header -o templates/messages.pot templates
	$(BIN)/pybabel update -i templates/messages.pot -d templates/locale -l ru --ignore-obsolete --width 100
	rm templates/messages.pot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis mutants
