"""The invoices folder: a local folder or a Google Drive folder, and the text of its PDFs."""
