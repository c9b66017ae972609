"""Parsing of session dates written in the formats conversation files use."""

from __future__ import annotations

from datetime import datetime

# LoCoMo writes "1:56 pm on 8 May, 2023"; the others are common spellings.
_FORMATS = (
    "%I:%M %p on %d %B, %Y",
    "%I:%M %p on %d %b, %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d %B %Y",
    "%B %d, %Y",
)


def parse_datetime(value: str) -> datetime:
    """Parse a session or turn date; ISO 8601 first, then the known spellings, then dateparser.

    Relative wordings such as "yesterday" are rejected, because they would
    resolve against the day of the ingest. All-number dates are read month
    first, as dateparser does for English: "03/04/2024" is 4 March 2024.

    Raises:
        ValueError: the value matches no known date format.
    """
    text = " ".join(value.strip().split())
    if not text:
        raise ValueError("empty date")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue

    import dateparser

    parsed = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "STRICT_PARSING": True,
            "REQUIRE_PARTS": ["year"],
            "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
        },
    )
    if parsed is None:
        raise ValueError(f"unrecognised date {value!r}; use ISO 8601, e.g. 2023-05-08T13:56:00")
    return parsed
