"""State in a SQLite file beside the workbook (the embedded default)."""
