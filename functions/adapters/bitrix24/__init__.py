"""Bitrix24 REST: the HTTP client (webhook, rate limit, retries) and the deal source."""
