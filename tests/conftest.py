"""Fixtures shared by every test module."""

pytest_plugins = ["tests.firestore_emulator"]  # starts the Firestore emulator when a test asks
