"""NumericDates (RFC 7519 §2) and durations as people read them: :func:`numeric_date`,
:func:`human_duration` (``15 min``, ``3 days``) and :func:`relative` (``in 14 min``,
``3 days ago``). Shared by the commands and the token audit; nothing here reads the clock.
"""

from __future__ import annotations

__all__ = ["MAX_NUMERIC_DATE", "MIN_NUMERIC_DATE", "human_duration", "numeric_date", "relative"]

#: The NumericDates of years 1..9999: outside them a date can be neither shown nor compared
#: meaningfully (the claims checks of ``_claims`` use the same bounds).
MIN_NUMERIC_DATE = -62135596800
MAX_NUMERIC_DATE = 253402300799


def numeric_date(value: object) -> float | None:
    """``value`` as a NumericDate (an int or float in years 1-9999, never a bool), or ``None``."""
    if type(value) is not int and type(value) is not float:
        return None
    if not MIN_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE:
        return None
    return float(value)


def human_duration(seconds: float) -> str:
    """A rough duration, rounded: ``45 s``, ``15 min``, ``5 h``, ``3 days``, ``2 years``."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{round(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    if seconds < 730 * 86400:
        return f"{round(seconds / 86400)} days"
    return f"{round(seconds / (365.25 * 86400))} years"


def relative(timestamp: float, now: float) -> str:
    """``in 14 min``, ``3 days ago`` or ``now`` (within a second)."""
    delta = timestamp - now
    if abs(delta) < 1:
        return "now"
    text = human_duration(delta)
    return f"in {text}" if delta > 0 else f"{text} ago"
