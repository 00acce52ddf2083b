"""Where sheetflow starts: the CLI and the Cloud Functions (each a thin call into one service)."""
