"""`python -m functions` runs the sheetflow CLI."""

from .cli import main

main()
