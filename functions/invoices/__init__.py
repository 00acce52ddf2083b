"""The invoice flow's parts: its state, a row's moves, checks, recipients, the invoices folder."""
