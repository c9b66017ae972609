"""Collect the arguments of one EDU from named entities, noun chunks, persons and times.

Kinds come from the entity label where spaCy found an entity. Noun chunks without
an entity are a place when their head noun names a kind of place ("the park"), a
concept when it is abstract (a suffix like -ness or -tion, or a listed word like
"support"), and a thing otherwise. These word lists are heuristics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from ingest.extractors._persons import OBJECT_DEPS, SUBJECT_DEPS, PersonReference
from ingest.extractors.time_expressions import MONTH_NAMES, ResolvedTime
from memgraph.models import ArgumentKind, ExtractedArgument, normalize_name

_ENTITY_KINDS = {
    "PERSON": ArgumentKind.PERSON,
    "ORG": ArgumentKind.ORG,
    "GPE": ArgumentKind.PLACE,
    "LOC": ArgumentKind.PLACE,
    "FAC": ArgumentKind.PLACE,
    "NORP": ArgumentKind.CONCEPT,
    "EVENT": ArgumentKind.CONCEPT,
    "LAW": ArgumentKind.CONCEPT,
    "LANGUAGE": ArgumentKind.CONCEPT,
    "WORK_OF_ART": ArgumentKind.THING,
    "PRODUCT": ArgumentKind.THING,
}
_TIME_LABELS = frozenset({"DATE", "TIME"})

_PLACE_NOUNS = frozenset(
    {
        "airport", "backyard", "bakery", "bar", "beach", "cafe", "camp", "campsite", "center",
        "centre", "church", "city", "clinic", "club", "college", "country", "countryside",
        "farm", "forest", "gallery", "garden", "gym", "home", "hospital", "hotel", "house",
        "island", "lake", "library", "mall", "mountain", "museum", "neighborhood",
        "neighbourhood", "ocean", "office", "park", "restaurant", "river", "school", "sea",
        "shelter", "shop", "stadium", "store", "street", "studio", "theater", "theatre",
        "town", "trail", "university", "venue", "village", "yard", "zoo",
    }
)  # fmt: skip
_ABSTRACT_SUFFIXES = ("ness", "ity", "ment", "tion", "sion", "ism", "ship", "ence", "ance", "hood", "dom")
_ABSTRACT_NOUNS = frozenset(
    {
        "advice", "art", "career", "courage", "culture", "education", "faith", "fun", "growth",
        "health", "help", "hope", "joy", "journey", "life", "love", "music", "peace", "self",
        "support", "therapy", "trust",
    }
)  # fmt: skip
# Chunk heads too vague to be worth a node of their own.
_GENERIC_NOUNS = frozenset(
    {"bit", "kind", "lot", "one", "ones", "sort", "stuff", "thank", "thanks", "thing", "things", "way"}
)
# First halves of "gonna" and "wanna", which the tokenizer splits and the tagger may call nouns.
_SPLIT_CONTRACTIONS = frozenset({"gon", "wan"})
# Leading words dropped from chunk names. Articles stay because normalize_name drops them.
_DROPPED_DETERMINERS = frozenset(
    {"all", "any", "each", "every", "many", "much", "no", "some", "such", "that", "these", "this", "those"}
)
# Chunk heads that name the medium of a shared picture rather than its content.
PICTURE_NOUNS = frozenset({"close", "image", "photo", "photograph", "photography", "pic", "picture", "screenshot"})

_ROLE_PRIORITY = {"agent": 0, "patient": 1, "place": 2, "time": 3, "mention": 4}


@dataclass(frozen=True)
class ParsedPhrases:
    """Named entities and noun chunks of one parsed text, computed once for all its EDUs."""

    entities: tuple[Span, ...]
    noun_chunks: tuple[Span, ...]

    @classmethod
    def of(cls, doc: Doc) -> ParsedPhrases:
        """Collect the phrases of ``doc``."""
        return cls(tuple(doc.ents), tuple(doc.noun_chunks))


@dataclass(frozen=True)
class TimeMention:
    """A resolved time expression of a parsed text, with the tokens it spans."""

    start: int
    end: int
    resolved: ResolvedTime


def _dependency_role(token: Token) -> str:
    if token.dep_ in SUBJECT_DEPS:
        return "agent"
    if token.dep_ in OBJECT_DEPS:
        return "patient"
    return "mention"


def _noun_kind(head: Token) -> ArgumentKind:
    lemma = head.lemma_.lower()
    if lemma in _PLACE_NOUNS:
        return ArgumentKind.PLACE
    if lemma in _ABSTRACT_NOUNS or (head.pos_ == "NOUN" and lemma.endswith(_ABSTRACT_SUFFIXES)):
        return ArgumentKind.CONCEPT
    return ArgumentKind.THING


def _is_capitalized(entity: Span) -> bool:
    """Tell whether a named entity contains a capitalised word, which 'the kids & work' tagged ORG lacks."""
    return any(token.text[:1].isupper() for token in entity)


def _looks_absolute(text: str) -> bool:
    """Tell whether an unresolved date entity names a calendar date, like 'summer 2021' or 'July'."""
    return any(character.isdigit() for character in text) or any(month in text for month in MONTH_NAMES)


class ArgumentCollector:
    """Gathers arguments with their text position, merging repeats of one name and kind.

    A repeated argument keeps its first position and the strongest role, in the
    order agent, patient, place, time, mention.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[str, ArgumentKind], tuple[int, int, ExtractedArgument]] = {}

    def add(self, position: int, name: str, kind: ArgumentKind, role: str) -> None:
        """Add an argument found at token index ``position``, or at -1 to put it first."""
        # The tokenizer leaves dashes on words written against them, as in "family- they".
        name = " ".join(name.split()).strip("-\u2013\u2014,;: ")
        if not name:
            return
        key = (normalize_name(name), kind)
        argument = ExtractedArgument(name=name, kind=kind, role=role)
        previous = self._found.get(key)
        if previous is None:
            self._found[key] = (position, len(self._found), argument)
            return
        first_position, order, kept = previous
        if _ROLE_PRIORITY.get(role, 9) < _ROLE_PRIORITY.get(kept.role, 9):
            kept = ExtractedArgument(name=kept.name, kind=kind, role=role)
        self._found[key] = (min(first_position, position), order, kept)

    def arguments(self) -> tuple[ExtractedArgument, ...]:
        """Return the arguments ordered by position, then by discovery."""
        ordered = sorted(self._found.values(), key=lambda entry: (entry[0], entry[1]))
        return tuple(argument for _, _, argument in ordered)


def _chunk_tokens(chunk: Span) -> list[Token]:
    tokens = list(chunk)
    while tokens and (
        (tokens[0].dep_ == "poss" and tokens[0].pos_ == "PRON")
        or tokens[0].lower_ in _DROPPED_DETERMINERS
        or tokens[0].is_punct
    ):
        tokens = tokens[1:]
    return tokens


def collect_arguments(
    tokens: Sequence[Token],
    references: Sequence[PersonReference],
    participant_names: Mapping[str, str],
    times: Sequence[TimeMention],
    phrases: ParsedPhrases,
    collector: ArgumentCollector | None = None,
) -> tuple[ExtractedArgument, ...]:
    """Return the arguments of the EDU made of ``tokens``.

    Args:
        tokens: The EDU's tokens, all from one parsed text.
        references: Pronouns of the text replaced by participant names.
        participant_names: Lower-cased forms of the participants' names mapped to the full name.
        times: Resolved time expressions of the text.
        phrases: Entities and noun chunks of the same text.
        collector: A collector that already contains arguments, such as the persons
            named by an EDU's prefix.
    """
    collector = collector if collector is not None else ArgumentCollector()
    if not tokens:
        return collector.arguments()
    indices = {token.i for token in tokens}

    for reference in references:
        if reference.token_index in indices:
            collector.add(reference.token_index, reference.name, ArgumentKind.PERSON, reference.role)

    time_indices: set[int] = set()
    for mention in times:
        if mention.start in indices:
            time_indices.update(range(mention.start, mention.end))
            collector.add(mention.start, mention.resolved.name, ArgumentKind.TIME, "time")

    entity_indices: set[int] = set()
    for entity in phrases.entities:
        if entity.start not in indices or time_indices.intersection(range(entity.start, entity.end)):
            continue
        entity_indices.update(range(entity.start, entity.end))
        participant = participant_names.get(entity.text.lower())
        if participant is not None:
            collector.add(entity.start, participant, ArgumentKind.PERSON, _dependency_role(entity.root))
        elif entity.label_ in _ENTITY_KINDS and _is_capitalized(entity):
            kind = _ENTITY_KINDS[entity.label_]
            role = "place" if kind is ArgumentKind.PLACE else _dependency_role(entity.root)
            collector.add(entity.start, entity.text, kind, role)
        elif entity.label_ in _TIME_LABELS and _looks_absolute(entity.text):
            collector.add(entity.start, entity.text, ArgumentKind.TIME, "time")

    for token in tokens:
        participant = participant_names.get(token.lower_)
        if token.pos_ == "PROPN" and participant is not None and token.i not in entity_indices:
            collector.add(token.i, participant, ArgumentKind.PERSON, _dependency_role(token))

    for chunk in phrases.noun_chunks:
        _add_chunk(collector, chunk, indices, time_indices, phrases.entities, participant_names)
    return collector.arguments()


def _add_chunk(
    collector: ArgumentCollector,
    chunk: Span,
    indices: set[int],
    time_indices: set[int],
    entities: Sequence[Span],
    participant_names: Mapping[str, str],
) -> None:
    head = chunk.root
    if head.i not in indices or head.pos_ == "PRON" or head.i in time_indices:
        return
    if head.lower_ in participant_names or head.ent_type_ in _TIME_LABELS:
        return
    lemma = head.lemma_.lower()
    if lemma in _GENERIC_NOUNS or lemma in PICTURE_NOUNS or head.lower_ in _SPLIT_CONTRACTIONS:
        return
    tokens = [token for token in _chunk_tokens(chunk) if token.i in indices]
    if not tokens or all(token.is_stop or token.is_punct for token in tokens):
        return
    # An entity already names "the Louvre". A chunk whose head lies outside entities stays ("a LGBTQ support group").
    if any(entity.start <= head.i < entity.end for entity in entities):
        return
    span_range = (tokens[0].i, tokens[-1].i + 1)

    name = chunk.doc[span_range[0] : span_range[1]].text
    kind = _noun_kind(head)
    role = "place" if kind is ArgumentKind.PLACE else _dependency_role(head)
    collector.add(tokens[0].i, name, kind, role)
