"""The local .xlsx book (openpyxl), with a fast path that patches only the cells a tick changes."""
