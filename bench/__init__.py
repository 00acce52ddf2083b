"""The sheetflow benchmark (`make bench`): see bench/bench.py."""
