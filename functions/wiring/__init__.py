"""What every way of starting sheetflow shares: the bootstrap, Google's wiring, the console."""
