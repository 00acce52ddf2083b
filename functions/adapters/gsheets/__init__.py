"""The Google Sheets book: reads, one atomic batchUpdate per tick, protections, init, reports."""
