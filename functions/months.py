"""Calendar months in the Settings time zone (no pandas: every tick needs this, not a report)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def previous_month(moment: datetime, zone: ZoneInfo) -> str:
    """`YYYY-MM` of the month before the one `moment` falls in, in `zone`."""
    local = moment.astimezone(zone)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"
