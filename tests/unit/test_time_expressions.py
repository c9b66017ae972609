"""Tests for finding time expressions and resolving them against a base date."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.extractors.time_expressions import (
    Granularity,
    Tense,
    find_time_phrases,
    format_date,
    resolve_time_phrase,
)

# A Monday, so that weekday and weekend rules have both directions to choose from.
BASE = date(2023, 5, 8)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("yesterday", date(2023, 5, 7)),
        ("today", date(2023, 5, 8)),
        ("tonight", date(2023, 5, 8)),
        ("last night", date(2023, 5, 7)),
        ("tomorrow", date(2023, 5, 9)),
        ("yesterday morning", date(2023, 5, 7)),
        ("the day before yesterday", date(2023, 5, 6)),
        ("two days ago", date(2023, 5, 6)),
        ("3 days ago", date(2023, 5, 5)),
        ("last Friday", date(2023, 5, 5)),
        ("last Monday", date(2023, 5, 1)),
        ("next Saturday", date(2023, 5, 13)),
        ("next Fri", date(2023, 5, 12)),
    ],
)
def test_day_phrase_resolves_to_exact_day(phrase: str, expected: date) -> None:
    resolved = resolve_time_phrase(phrase, BASE)

    assert resolved is not None
    assert resolved.occurred_at == expected
    assert resolved.granularity is Granularity.DAY
    assert resolved.approximate is False


@pytest.mark.parametrize(
    ("phrase", "expected", "granularity", "label"),
    [
        ("last week", date(2023, 5, 1), Granularity.WEEK, "around 1 May 2023"),
        ("next week", date(2023, 5, 15), Granularity.WEEK, "around 15 May 2023"),
        ("3 weeks ago", date(2023, 4, 17), Granularity.WEEK, "around 17 April 2023"),
        ("last month", date(2023, 4, 1), Granularity.MONTH, "April 2023"),
        ("next month", date(2023, 6, 1), Granularity.MONTH, "June 2023"),
        ("this month", date(2023, 5, 1), Granularity.MONTH, "May 2023"),
        ("last year", date(2022, 1, 1), Granularity.YEAR, "2022"),
        ("next year", date(2024, 1, 1), Granularity.YEAR, "2024"),
        ("three years ago", date(2020, 1, 1), Granularity.YEAR, "2020"),
        ("last weekend", date(2023, 5, 6), Granularity.WEEKEND, "weekend of 6 May 2023"),
        ("next weekend", date(2023, 5, 13), Granularity.WEEKEND, "weekend of 13 May 2023"),
        ("two weekends ago", date(2023, 4, 29), Granularity.WEEKEND, "weekend of 29 April 2023"),
        ("last summer", date(2022, 6, 1), Granularity.SEASON, "summer 2022"),
        ("next winter", date(2023, 12, 1), Granularity.SEASON, "winter 2023"),
    ],
)
def test_coarse_phrase_follows_convention(phrase: str, expected: date, granularity: Granularity, label: str) -> None:
    resolved = resolve_time_phrase(phrase, BASE)

    assert resolved is not None
    assert resolved.occurred_at == expected
    assert resolved.granularity is granularity
    assert resolved.label == label


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("a few days ago", date(2023, 5, 5)),
        ("a couple of days ago", date(2023, 5, 6)),
        ("several days ago", date(2023, 5, 5)),
        ("the other day", date(2023, 5, 6)),
    ],
)
def test_vague_count_is_approximate(phrase: str, expected: date) -> None:
    resolved = resolve_time_phrase(phrase, BASE)

    assert resolved is not None
    assert resolved.occurred_at == expected
    assert resolved.approximate is True
    assert resolved.label == f"around {format_date(expected)}"


@pytest.mark.parametrize(
    ("phrase", "past", "future"),
    [
        ("this weekend", date(2023, 5, 6), date(2023, 5, 13)),
        ("Friday", date(2023, 5, 5), date(2023, 5, 12)),
        ("this Friday", date(2023, 5, 5), date(2023, 5, 12)),
        ("5 June", date(2022, 6, 5), date(2023, 6, 5)),
        ("June 5th", date(2022, 6, 5), date(2023, 6, 5)),
        ("June", date(2022, 6, 1), date(2023, 6, 1)),
    ],
)
def test_tense_picks_direction_of_ambiguous_phrase(phrase: str, past: date, future: date) -> None:
    resolved_past = resolve_time_phrase(phrase, BASE, Tense.PAST)
    resolved_future = resolve_time_phrase(phrase, BASE, Tense.FUTURE)

    assert resolved_past is not None
    assert resolved_past.occurred_at == past
    assert resolved_future is not None
    assert resolved_future.occurred_at == future


def test_weekend_on_a_saturday_is_that_weekend() -> None:
    saturday = date(2023, 5, 13)

    this_weekend = resolve_time_phrase("this weekend", saturday, Tense.PAST)
    last_weekend = resolve_time_phrase("last weekend", saturday)

    assert this_weekend is not None
    assert this_weekend.occurred_at == saturday
    assert last_weekend is not None
    assert last_weekend.occurred_at == date(2023, 5, 6)


def test_explicit_year_is_kept() -> None:
    resolved = resolve_time_phrase("5 June 2021", BASE, Tense.FUTURE)

    assert resolved is not None
    assert resolved.occurred_at == date(2021, 6, 5)
    assert resolved.name == "5 June 2021"


def test_month_with_year_resolves_to_first_day() -> None:
    resolved = resolve_time_phrase("May 2022", BASE)

    assert resolved is not None
    assert resolved.occurred_at == date(2022, 5, 1)
    assert resolved.granularity is Granularity.MONTH


def test_unknown_phrase_resolves_to_none() -> None:
    assert resolve_time_phrase("a while back", BASE) is None
    assert resolve_time_phrase("painting", BASE) is None


def test_find_returns_phrases_with_offsets() -> None:
    text = "I went to a support group yesterday and saw Jo two days ago."

    phrases = find_time_phrases(text)

    assert [phrase.text for phrase in phrases] == ["yesterday", "two days ago"]
    assert [(phrase.start, phrase.end) for phrase in phrases] == [(26, 35), (47, 59)]
    assert all(text[phrase.start : phrase.end] == phrase.text for phrase in phrases)


def test_find_prefers_longest_overlapping_phrase() -> None:
    phrases = find_time_phrases("We met last Friday night and the day before yesterday.")

    assert [phrase.text for phrase in phrases] == ["last Friday night", "the day before yesterday"]


def test_find_ignores_modal_may_and_bare_numbers() -> None:
    phrases = find_time_phrases("It may rain, so I may march 2000 steps; I bought 2 cakes.")

    assert phrases == []


def test_find_reads_month_and_year_after_preposition() -> None:
    phrases = find_time_phrases("We moved in June and started the band in 2019.")

    assert [phrase.text for phrase in phrases] == ["June", "2019"]


def test_find_reads_abbreviated_weekday_only_after_relation() -> None:
    phrases = find_time_phrases("See you next Fri under the Sun.")

    assert [phrase.text for phrase in phrases] == ["next Fri"]


def test_format_date_is_day_month_year() -> None:
    assert format_date(date(2023, 5, 7)) == "7 May 2023"


def test_this_season_after_it_ended_follows_tense() -> None:
    october = date(2023, 10, 3)

    past = resolve_time_phrase("this summer", october, Tense.PAST)
    future = resolve_time_phrase("this summer", october, Tense.FUTURE)

    assert past is not None
    assert past.occurred_at == date(2023, 6, 1)
    assert future is not None
    assert future.occurred_at == date(2024, 6, 1)


def test_in_weeks_resolves_only_in_future_tense() -> None:
    future = resolve_time_phrase("in two weeks", BASE, Tense.FUTURE)
    past = resolve_time_phrase("in two weeks", BASE, Tense.PAST)

    assert future is not None
    assert future.occurred_at == date(2023, 5, 22)
    assert future.label == "around 22 May 2023"
    assert past is None
