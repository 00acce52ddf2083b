"""`make mutate`'s report: the mutation score of each core module after `mutmut run`.

Reads mutmut's results (mutants/functions/*.py.meta) and tests/mutants_equivalent.txt, where
each surviving mutant that no test can kill (it changes nothing a caller can observe) is
listed as `name: why`. Score = killed / (mutants - equivalent - not run yet); a timeout counts
as killed (the tests noticed). Exits 1 when a survivor is neither killed nor listed, a module
is under the target or not fully run, so a new survivor is not missed.

    python -m tests.mutation_score [--target 90]
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tests" / "mutants_equivalent.txt"
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # killed, pytest error, timeouts, type check
SURVIVED = {0}


def equivalent() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(":")
            found[name.strip()] = why.strip()
    return found


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=90.0, help="minimum score per module")
    args = parser.parse_args(argv)
    listed = equivalent()
    used: set[str] = set()
    checked: set[str] = set()
    failed = False
    print(f"{'module':<28}{'mutants':>8}{'killed':>8}{'equiv.':>8}{'unrun':>8}{'score':>9}")
    for path in modules():
        meta = ROOT / "mutants" / f"{path}.meta"
        if not meta.exists():
            print(f"{path:<28}  not run (make mutate first)")
            failed = True
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        killed = sum(1 for c in codes.values() if c in KILLED)
        survivors = [name for name, c in codes.items() if c in SURVIVED]
        checked.update(name for name, c in codes.items() if c is not None)
        equal = [name for name in survivors if name in listed]
        used.update(equal)
        unexplained = [name for name in survivors if name not in listed]
        other = len(codes) - killed - len(survivors)  # not checked, no tests, suspicious
        score = 100.0 * killed / max(1, len(codes) - len(equal) - other)  # of those run
        print(f"{path:<28}{len(codes):>8}{killed:>8}{len(equal):>8}{other:>8}{score:>8.1f}%")
        for name in unexplained:
            print(f"    survived, not listed as equivalent: {name}")
        failed |= bool(unexplained) or score < args.target or other > 0
    stale = sorted((set(listed) - used) & checked)
    for name in stale:
        print(f"    listed as equivalent but no longer a survivor (remove it): {name}")
    return 1 if failed or stale else 0


if __name__ == "__main__":
    sys.exit(main())
