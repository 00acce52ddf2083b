"""Adapters: the edges where sheetflow meets files, databases and mail servers."""
