"""Find time expressions in English text and resolve them against a base date.

Day arithmetic ("yesterday", "two days ago", "last Friday", "5 June") is done by
dateparser with ``RELATIVE_BASE`` set to the base date and ``PREFER_DATES_FROM``
set from the tense of the sentence. dateparser 1.5 returns nothing for approximate
counts ("a few days ago", "a couple of weeks ago"), weekends and seasons, so those
are rewritten to a count first or computed here.

Conventions, so that every phrase has one deterministic date:

* Day phrases resolve to that day. "Last night" is the day before the base date.
* Week phrases ("last week", "3 weeks ago", "in two weeks") resolve to the base
  date shifted by whole weeks and are labelled approximate ("around 1 May 2023").
* Weekend phrases resolve to the Saturday of that weekend.
* Month phrases ("last month", "in June") resolve to the first day of the month.
  Year phrases ("last year", "in 2019") resolve to 1 January.
* Season phrases resolve to the first day of the season's first month, with
  Northern Hemisphere seasons: spring March, summer June, autumn September,
  winter December.
* "A few" and "several" count as 3, "a couple" as 2, and "the other day" as two
  days ago; all of them are labelled approximate.
* Ambiguous phrases (a bare weekday, "this weekend", a date or month without a
  year) resolve into the past for ``Tense.PAST`` and into the future otherwise.
* "In <count> <unit>" resolves only for ``Tense.FUTURE``, because in a past-tense
  clause it is a duration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import dateparser

logger = logging.getLogger(__name__)

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class Tense(StrEnum):
    """Direction in which an ambiguous phrase resolves."""

    PAST = "past"
    FUTURE = "future"


class Granularity(StrEnum):
    """Precision of a resolved date."""

    DAY = "day"
    WEEK = "week"
    WEEKEND = "weekend"
    MONTH = "month"
    SEASON = "season"
    YEAR = "year"


@dataclass(frozen=True)
class TimePhrase:
    """A time expression found in a text, with character offsets into it."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class ResolvedTime:
    """A time expression and the date it resolves to."""

    text: str
    occurred_at: date
    granularity: Granularity
    approximate: bool = False

    @property
    def name(self) -> str:
        """Readable date without the approximation mark, e.g. '7 May 2023' or 'April 2023'."""
        return _format_period(self.occurred_at, self.granularity)

    @property
    def label(self) -> str:
        """Readable date as shown beside the wording, e.g. 'around 1 May 2023'."""
        if self.approximate:
            return f"around {self.name}"
        return self.name


def format_date(day: date) -> str:
    """Format ``day`` as '7 May 2023', independent of the locale."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _format_period(day: date, granularity: Granularity) -> str:
    if granularity is Granularity.YEAR:
        return str(day.year)
    if granularity is Granularity.MONTH:
        return f"{MONTH_NAMES[day.month - 1]} {day.year}"
    if granularity is Granularity.SEASON:
        return f"{_SEASON_OF_MONTH[day.month]} {day.year}"
    if granularity is Granularity.WEEKEND:
        return f"weekend of {format_date(day)}"
    return format_date(day)


# Patterns. Month names must be capitalised ("may" and "march" are common verbs),
# so they are matched case-sensitively and everything else case-insensitively.
_WEEKDAY = r"(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
# Abbreviations are also words ("sun", "sat"), so they count only capitalised after "last", "next" or "this".
_WEEKDAY_ABBREVIATION = r"(?:Mon|Tues?|Wed|Thu(?:rs)?|Fri|Sat|Sun)\.?"
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Sept?\.?|Jan\.?|Feb\.?|Aug\.?|Oct\.?|Nov\.?|Dec\.?)"
)
_COUNT = (
    r"(?i:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few|several)"
)
_UNIT = r"(?i:days?|weekends?|weeks?|months?|years?)"
_PART_OF_DAY = r"(?i:\s+(?:morning|afternoon|evening|night))?"
_SEASON = r"(?i:spring|summer|fall|autumn|winter)"
_DAY_NUMBER = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    # Pattern that finds the phrase in running text. Its group "phrase" is the span.
    finder: re.Pattern[str]


def _rule(kind: str, pattern: str, context: str | None = None) -> _Rule:
    finder = context if context is not None else rf"(?P<phrase>{pattern})"
    return _Rule(kind, re.compile(pattern), re.compile(rf"(?<![\w-]){finder}(?![\w-])"))


_RULES = (
    _rule(
        "day",
        r"(?i:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|the\s+other\s+day"
        r"|last\s+night|tonight|today|this\s+(?:morning|afternoon|evening)"
        rf"|(?:yesterday|tomorrow){_PART_OF_DAY})",
    ),
    _rule("ago", rf"{_COUNT}\s+{_UNIT}\s+(?i:ago)"),
    _rule("ahead", rf"(?i:in)\s+{_COUNT}\s+{_UNIT}|{_COUNT}\s+{_UNIT}\s+(?i:from\s+now)"),
    _rule("unit", r"(?i:last|next|this\s+past|this|coming)\s+(?i:week|weekend|month|year)"),
    _rule("season", rf"(?i:last|next|this\s+past|this)\s+{_SEASON}"),
    _rule("weekday", rf"(?:(?i:last|next|this\s+past|this|coming)\s+)?{_WEEKDAY}{_PART_OF_DAY}"),
    _rule("weekday", rf"(?i:last|next|this\s+past|this|coming)\s+{_WEEKDAY_ABBREVIATION}{_PART_OF_DAY}"),
    _rule(
        "date",
        rf"{_DAY_NUMBER}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?|{_MONTH}\s+{_DAY_NUMBER}(?:,?\s+{_YEAR})?",
        rf"(?:(?i:the)\s+)?(?P<phrase>{_DAY_NUMBER}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
        rf"|{_MONTH}\s+{_DAY_NUMBER}(?:,?\s+{_YEAR})?)",
    ),
    _rule("month_year", rf"{_MONTH},?\s+{_YEAR}"),
    _rule(
        "month",
        rf"(?:(?i:last|next|this\s+past|this)\s+)?{_MONTH}",
        rf"(?:(?i:in|since|during|until|by|early|late|mid)[\s-]+(?P<phrase>{_MONTH})"
        rf"|(?P<phrase2>(?i:last|next|this\s+past|this)\s+{_MONTH}))",
    ),
    _rule("year", _YEAR, rf"(?i:in|since|during|until|back\s+in)\s+(?P<phrase>{_YEAR})"),
)

_COUNT_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
# Vague counts, resolved to a fixed number so the result is deterministic.
_APPROXIMATE_COUNTS = {"couple": 2, "couple of": 2, "few": 3, "several": 3}

_SEASON_START_MONTH = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_SEASON_OF_MONTH = {3: "spring", 6: "summer", 9: "autumn", 12: "winter"}


def find_time_phrases(text: str) -> list[TimePhrase]:
    """Find the time expressions of ``text``, left to right and without overlaps.

    Where candidates overlap, the one that starts first wins, then the longest.
    """
    candidates: list[tuple[int, int]] = []
    for rule in _RULES:
        for match in rule.finder.finditer(text):
            group = "phrase2" if "phrase2" in rule.finder.groupindex and match.group("phrase2") else "phrase"
            candidates.append(match.span(group))
    candidates.sort(key=lambda span: (span[0], -span[1]))

    phrases: list[TimePhrase] = []
    last_end = -1
    for start, end in candidates:
        if start >= last_end:
            phrases.append(TimePhrase(text[start:end], start, end))
            last_end = end
    return phrases


def resolve_time_phrase(phrase: str, base: date, tense: Tense = Tense.PAST) -> ResolvedTime | None:
    """Resolve one time expression, e.g. 'last Friday', against ``base``.

    Returns None when ``phrase`` is not a time expression that this module handles.
    """
    return _resolve_cached(" ".join(phrase.split()), base, tense)


@lru_cache(maxsize=4096)
def _resolve_cached(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    for rule in _RULES:
        if rule.pattern.fullmatch(phrase):
            resolved = _RESOLVERS[rule.kind](phrase, base, tense)
            if resolved is None:
                logger.debug("time phrase %r matched rule %s but did not resolve", phrase, rule.kind)
            return resolved
    return None


def _parse_with_dateparser(phrase: str, base: date, tense: Tense) -> date | None:
    settings = {
        "RELATIVE_BASE": datetime(base.year, base.month, base.day, 12, 0),
        "PREFER_DATES_FROM": tense.value,
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    if parsed is None:
        return None
    result: date = parsed.date()
    return result


def _strip_part_of_day(phrase: str) -> str:
    return re.sub(r"(?i)\s+(?:morning|afternoon|evening|night)$", "", phrase)


def _resolve_day(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    lowered = phrase.lower()
    if lowered == "the other day":
        return ResolvedTime(phrase, base - timedelta(days=2), Granularity.DAY, approximate=True)
    if lowered.startswith("this "):
        return ResolvedTime(phrase, base, Granularity.DAY)
    day = _parse_with_dateparser(_strip_part_of_day(lowered) if lowered != "last night" else lowered, base, tense)
    if day is None:
        return None
    return ResolvedTime(phrase, day, Granularity.DAY)


def _split_count(phrase: str) -> tuple[int, bool, str]:
    """Split '<count> <unit> ...' into the count, whether it is vague, and the singular unit."""
    match = re.search(rf"(?P<count>{_COUNT})\s+(?P<unit>{_UNIT})", phrase)
    if match is None:
        raise ValueError(f"no count and unit in time phrase {phrase!r}")
    count_text = " ".join(match.group("count").lower().split())
    unit = match.group("unit").lower().rstrip("s")
    vague_key = count_text.removeprefix("a ").strip()
    if vague_key in _APPROXIMATE_COUNTS:
        return _APPROXIMATE_COUNTS[vague_key], True, unit
    if count_text.isdigit():
        return int(count_text), False, unit
    return _COUNT_WORDS[count_text], False, unit


def _resolve_offset(phrase: str, base: date, tense: Tense, direction: int) -> ResolvedTime | None:
    count, approximate, unit = _split_count(phrase)
    if unit == "weekend":
        first = _last_weekend(base) if direction < 0 else _next_weekend(base)
        return ResolvedTime(phrase, first + timedelta(weeks=direction * (count - 1)), Granularity.WEEKEND, approximate)

    # dateparser reads "3 days ago" and "in 3 days" but not "a few days ago", so the
    # count goes in as digits.
    normalized = f"{count} {unit}s ago" if direction < 0 else f"in {count} {unit}s"
    day = _parse_with_dateparser(normalized, base, tense)
    if day is None:
        return None
    return _coarsen(phrase, day, unit, approximate)


def _coarsen(phrase: str, day: date, unit: str, approximate: bool) -> ResolvedTime:
    """Apply the week, month and year conventions of the module docstring to ``day``."""
    if unit == "week":
        return ResolvedTime(phrase, day, Granularity.WEEK, approximate=True)
    if unit == "month":
        return ResolvedTime(phrase, day.replace(day=1), Granularity.MONTH, approximate)
    if unit == "year":
        return ResolvedTime(phrase, date(day.year, 1, 1), Granularity.YEAR, approximate)
    return ResolvedTime(phrase, day, Granularity.DAY, approximate)


def _resolve_ago(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    return _resolve_offset(phrase, base, tense, direction=-1)


def _resolve_ahead(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    # In a past-tense clause "in two days" is a duration ("we haven't talked in a few days").
    if tense is Tense.PAST and phrase.lower().startswith("in "):
        return None
    return _resolve_offset(phrase, base, tense, direction=1)


def _saturday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() - 5) % 7)


def _last_weekend(base: date) -> date:
    """Saturday of the latest weekend that ended before ``base``."""
    saturday = _saturday_on_or_before(base)
    if base.weekday() >= 5:
        return saturday - timedelta(weeks=1)
    return saturday


def _next_weekend(base: date) -> date:
    """Saturday of the first weekend that starts after ``base``."""
    return _saturday_on_or_before(base) + timedelta(weeks=1)


def _this_weekend(base: date, tense: Tense) -> date:
    if base.weekday() >= 5:
        return _saturday_on_or_before(base)
    if tense is Tense.PAST:
        return _last_weekend(base)
    return _next_weekend(base)


def _relation(phrase: str) -> str:
    """Return 'last', 'next' or 'this' for the phrase's leading word, or '' when it has none."""
    lowered = phrase.lower()
    if lowered.startswith(("last ", "this past ")):
        return "last"
    if lowered.startswith(("next ", "coming ")):
        return "next"
    if lowered.startswith("this "):
        return "this"
    return ""


def _resolve_unit(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    relation = _relation(phrase)
    unit = phrase.lower().split()[-1]
    if unit == "weekend":
        if relation == "last":
            saturday = _last_weekend(base)
        elif relation == "next":
            saturday = _next_weekend(base)
        else:
            saturday = _this_weekend(base, tense)
        return ResolvedTime(phrase, saturday, Granularity.WEEKEND)

    if relation == "this":
        day = base
    else:
        day_or_none = _parse_with_dateparser(f"{relation} {unit}", base, tense)
        if day_or_none is None:
            return None
        day = day_or_none
    return _coarsen(phrase, day, unit, approximate=False)


def _resolve_season(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    relation = _relation(phrase)
    start_month = _SEASON_START_MONTH[phrase.lower().split()[-1]]
    # Season starts from two years back to next year, oldest first.
    starts = [date(base.year + offset, start_month, 1) for offset in (-2, -1, 0, 1)]
    if relation == "last":
        ended = [start for start in starts if _add_months(start, 3) <= base]
        chosen = ended[-1]
    elif relation == "next":
        chosen = next(start for start in starts if start > base)
    else:
        # In October, "this summer" is the summer just over in the past tense, else the next one.
        current = [start for start in starts if start <= base][-1]
        ongoing = _add_months(current, 3) > base
        if ongoing or tense is Tense.PAST:
            chosen = current
        else:
            chosen = next(start for start in starts if start > base)
    return ResolvedTime(phrase, chosen, Granularity.SEASON)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _full_weekday(word: str) -> str:
    prefix = word.rstrip(".").lower()[:3]
    return next(name for name in _WEEKDAY_NAMES if name.startswith(prefix))


def _resolve_weekday(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    relation = _relation(phrase)
    weekday = _full_weekday(_strip_part_of_day(phrase).split()[-1])
    if relation == "last":
        day = _parse_with_dateparser(f"last {weekday}", base, tense)
    elif relation == "next":
        day = _parse_with_dateparser(f"next {weekday}", base, tense)
    else:
        # dateparser 1.5 reads "this Friday" as the coming Friday whatever the tense,
        # so a bare weekday is parsed instead and the tense decides.
        day = _parse_with_dateparser(weekday, base, tense)
    if day is None:
        return None
    return ResolvedTime(phrase, day, Granularity.DAY)


def _resolve_date(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    day = _parse_with_dateparser(phrase, base, tense)
    if day is None:
        return None
    return ResolvedTime(phrase, day, Granularity.DAY)


def _resolve_month_year(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    day = _parse_with_dateparser(phrase, base, tense)
    if day is None:
        return None
    return ResolvedTime(phrase, day.replace(day=1), Granularity.MONTH)


def _month_number(name: str) -> int:
    prefix = name.rstrip(".")[:3].lower()
    return next(index for index, month in enumerate(MONTH_NAMES, start=1) if month[:3].lower() == prefix)


def _resolve_month(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    relation = _relation(phrase)
    month = _month_number(phrase.split()[-1])
    this_year = date(base.year, month, 1)
    current_month = base.replace(day=1)
    if relation == "last":
        chosen = this_year if this_year < current_month else date(base.year - 1, month, 1)
    elif relation == "next":
        chosen = this_year if this_year > current_month else date(base.year + 1, month, 1)
    elif relation == "this":
        chosen = this_year
    elif tense is Tense.PAST:
        chosen = this_year if this_year <= current_month else date(base.year - 1, month, 1)
    else:
        chosen = this_year if this_year >= current_month else date(base.year + 1, month, 1)
    return ResolvedTime(phrase, chosen, Granularity.MONTH)


def _resolve_year(phrase: str, base: date, tense: Tense) -> ResolvedTime | None:
    return ResolvedTime(phrase, date(int(phrase), 1, 1), Granularity.YEAR)


_RESOLVERS: dict[str, Callable[[str, date, Tense], ResolvedTime | None]] = {
    "day": _resolve_day,
    "ago": _resolve_ago,
    "ahead": _resolve_ahead,
    "unit": _resolve_unit,
    "season": _resolve_season,
    "weekday": _resolve_weekday,
    "date": _resolve_date,
    "month_year": _resolve_month_year,
    "month": _resolve_month,
    "year": _resolve_year,
}
