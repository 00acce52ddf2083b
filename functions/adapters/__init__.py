"""Adapters: one folder per technology, each implementing the ports of functions/ports.py."""
