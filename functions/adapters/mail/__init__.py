"""Mail senders: an outbox folder of .eml files, SMTP, or Gmail."""
