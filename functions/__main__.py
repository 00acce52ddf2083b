"""`python -m functions` runs the sheetflow CLI."""

from functions.entry.cli import main

main()
