"""State in Firestore (the Cloud deployment): snapshot shards, journal, email ledger, lock."""
