"""A stand-in Bitrix24 portal on loopback, following the official REST docs: demo and tests."""
