"""Where sheetflow starts: the CLI, the Cloud Functions, and the bootstrap that wires adapters."""
