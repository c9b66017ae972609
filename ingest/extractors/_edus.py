"""Build the EDUs of one parsed turn: clauses, questions, short answers and image captions.

Text forms, chosen so that each EDU reads on its own:

* A clause that names its speaker stays a statement: "Caroline went to a support
  group yesterday (7 May 2023)."
* A clause that does not name its speaker is attributed: "Melanie said Caroline
  would be a great counselor."
* A question keeps its words after an attribution: "Melanie asked Caroline: did
  Caroline hear any inspiring stories?"
* A turn made only of verbless fragments that follows a question by someone else
  quotes the question: 'Caroline answered Melanie's question "has Caroline been
  there?": yes, twice.'
* A shared picture becomes "Caroline shared a photo of a rainbow flag."
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from spacy.tokens import Doc, Span, Token

from ingest.extractors._arguments import (
    PICTURE_NOUNS,
    ArgumentCollector,
    ParsedPhrases,
    TimeMention,
    collect_arguments,
)
from ingest.extractors._clauses import has_verb, is_filler, is_question, opener_positions, split_clauses, strip_edges
from ingest.extractors._persons import SUBJECT_DEPS, Participants, PersonRewrite, is_vocative, rewrite_persons
from ingest.extractors.time_expressions import Tense, find_time_phrases, resolve_time_phrase
from memgraph.models import ArgumentKind, ExtractedEDU

logger = logging.getLogger(__name__)

_YES_NO_WORDS = frozenset({"yes", "yeah", "yep", "yup", "no", "nope", "nah", "sure", "definitely", "absolutely"})
# A verbless turn longer than this is an exclamation ("Wow, what an amazing journey!"), not an answer.
_SHORT_ANSWER_WORDS = 8
_MODAL_FUTURE = frozenset({"will", "'ll", "shall", "gon"})
_TRAILING_PUNCTUATION = ".!?,;:-\u2013\u2014 "
_PICTURE_OPENING = re.compile(r"(?i)^(?:a|an)\s+(?:photo|picture|image|screenshot|drawing|painting)\b")


@dataclass(frozen=True)
class TurnInput:
    """A parsed turn and what its pronouns and time expressions refer to."""

    turn_id: str
    doc: Doc
    participants: Participants
    base_date: date
    participant_names: Mapping[str, str]


@dataclass(frozen=True)
class PrecedingQuestion:
    """The last question of a turn, quoted by a short answer in the next turn."""

    asker: str
    text: str


@dataclass(frozen=True)
class _TurnContext:
    turn: TurnInput
    rewrite: PersonRewrite
    times: tuple[TimeMention, ...]
    annotations: dict[int, str]
    phrases: ParsedPhrases


def tense_at(token: Token) -> Tense:
    """Return the tense of the clause around ``token``, the direction for ambiguous dates.

    Past forms give PAST. Modals, "going to" and present forms give FUTURE, since
    "I'm going camping this weekend" is about the coming weekend. Without a verb the
    result is PAST.
    """
    verb = token
    for _ in range(8):
        if verb.pos_ in ("VERB", "AUX") or verb.head.i == verb.i:
            break
        verb = verb.head
    if verb.pos_ not in ("VERB", "AUX"):
        return Tense.PAST

    auxiliaries = [child for child in verb.children if child.dep_ in ("aux", "auxpass")]
    if any(aux.tag_ == "MD" or aux.lower_ in _MODAL_FUTURE for aux in auxiliaries):
        return Tense.FUTURE
    if verb.lemma_ == "go" and verb.tag_ == "VBG" and any(child.dep_ == "xcomp" for child in verb.children):
        return Tense.FUTURE
    if verb.tag_ == "VBD" or any(aux.tag_ == "VBD" for aux in auxiliaries):
        return Tense.PAST
    if verb.tag_ == "VBN" and any(aux.lemma_ == "have" for aux in auxiliaries):
        return Tense.PAST
    if verb.tag_ in ("VBP", "VBZ", "VBG", "VB", "MD"):
        return Tense.FUTURE
    return Tense.PAST


def _resolve_times(doc: Doc, base_date: date) -> tuple[TimeMention, ...]:
    mentions: list[TimeMention] = []
    for phrase in find_time_phrases(doc.text):
        span = doc.char_span(phrase.start, phrase.end, alignment_mode="expand")
        if span is None or len(span) == 0:
            continue
        resolved = resolve_time_phrase(phrase.text, base_date, tense_at(span.root))
        if resolved is not None:
            mentions.append(TimeMention(span.start, span.end, resolved))
    return tuple(mentions)


def _annotations(times: Sequence[TimeMention]) -> dict[int, str]:
    """Map the last token of each time expression to the resolved date shown after it."""
    annotations: dict[int, str] = {}
    for mention in times:
        resolved = mention.resolved
        # "in 2019" and "May 2022" contain their date already, so it is not repeated.
        if resolved.name.lower() != resolved.text.lower():
            annotations[mention.end - 1] = resolved.label
    return annotations


def render(tokens: Sequence[Token], replacements: Mapping[int, str], annotations: Mapping[int, str]) -> str:
    """Join ``tokens`` into text with replacements applied and dates added after time expressions."""
    parts: list[str] = []
    for position, token in enumerate(tokens):
        parts.append(replacements.get(token.i, token.text))
        if token.i in annotations:
            parts.append(f" ({annotations[token.i]})")
        if position + 1 < len(tokens):
            adjacent = tokens[position + 1].i == token.i + 1
            parts.append(token.whitespace_ if adjacent else " ")
    text = re.sub(r"\s+", " ", "".join(parts)).strip()
    return re.sub(r"\s+([,.;:!?])", r"\1", text)


def _lower_first(text: str, first: Token, replacements: Mapping[int, str]) -> str:
    """Lower-case the first letter, unless it starts a name or an acronym."""
    if first.pos_ == "PROPN" or (first.pos_ == "PRON" and first.i in replacements):
        return text
    if len(first.text) > 1 and first.text.isupper():
        return text
    return text[:1].lower() + text[1:]


def _sentence_text(body: str, question: bool) -> str:
    body = body.rstrip(_TRAILING_PUNCTUATION)
    # The sentence splitter can leave a closing quote to the next sentence.
    if body.count('"') % 2 == 1:
        body += '"'
    return body + ("?" if question else ".")


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def _time_of(tokens: Sequence[Token], times: Sequence[TimeMention]) -> TimeMention | None:
    indices = {token.i for token in tokens}
    return next((mention for mention in times if mention.start in indices), None)


def _make_edu(
    context: _TurnContext,
    tokens: Sequence[Token],
    question: bool,
) -> ExtractedEDU:
    participants = context.turn.participants
    speaker = participants.speaker
    body = render(tokens, context.rewrite.replacements, context.annotations)
    collector = ArgumentCollector()

    if question:
        addressee = f" {participants.listener}" if participants.listener else ""
        body = _lower_first(body, tokens[0], context.rewrite.replacements)
        text = f"{speaker} asked{addressee}: {_sentence_text(body, question=True)}"
        collector.add(-1, speaker, ArgumentKind.PERSON, "mention")
        if participants.listener:
            collector.add(-1, participants.listener, ArgumentKind.PERSON, "mention")
    elif _mentions(body, speaker):
        text = _sentence_text(body, question=False)
    else:
        # A clause without a subject ("Gonna continue my edu") reads better after a colon.
        separator = " " if any(token.dep_ in SUBJECT_DEPS for token in tokens) else ": "
        body = _lower_first(body, tokens[0], context.rewrite.replacements)
        text = f"{speaker} said{separator}{_sentence_text(body, question=False)}"
        collector.add(-1, speaker, ArgumentKind.PERSON, "mention")

    return _build_edu(context, tokens, text, collector, question=question)


def _build_edu(
    context: _TurnContext, tokens: Sequence[Token], text: str, collector: ArgumentCollector, *, question: bool
) -> ExtractedEDU:
    """Build an EDU of the turn's speaker from its text and the tokens its arguments and time come from."""
    arguments = collect_arguments(
        tokens,
        context.rewrite.references,
        context.turn.participant_names,
        context.times,
        context.phrases,
        collector,
    )
    time = _time_of(tokens, context.times)
    return ExtractedEDU(
        text=_capitalize(text),
        speakers=(context.turn.participants.speaker,),
        arguments=arguments,
        time_text=time.resolved.text if time else None,
        occurred_at=time.resolved.occurred_at if time else None,
        source_turn_ids=(context.turn.turn_id,),
        question=question,
    )


def _answer_edu(context: _TurnContext, previous: PrecedingQuestion) -> ExtractedEDU | None:
    """Build the EDU of a short answer, quoting the question it answers."""
    variants = context.turn.participant_names
    tokens = [token for token in context.turn.doc if not is_vocative(token, variants)]
    tokens = [token for token in tokens if not token.is_space]
    while tokens and tokens[0].is_punct:
        tokens = tokens[1:]
    if not tokens:
        return None
    answer = render(tokens, context.rewrite.replacements, context.annotations).rstrip(_TRAILING_PUNCTUATION)
    answer = _lower_first(answer, tokens[0], context.rewrite.replacements)
    speaker = context.turn.participants.speaker
    text = f'{speaker} answered {previous.asker}\'s question "{previous.text}": {answer}.'

    collector = ArgumentCollector()
    collector.add(-1, speaker, ArgumentKind.PERSON, "agent")
    collector.add(-1, previous.asker, ArgumentKind.PERSON, "mention")
    return _build_edu(context, tokens, text, collector, question=False)


def _is_short_answer(sentences: Sequence[Span], context: _TurnContext) -> bool:
    variants = context.turn.participant_names
    words = [token for token in context.turn.doc if not token.is_punct and not token.is_space]
    if len(words) > _SHORT_ANSWER_WORDS:
        return False
    content = [sentence for sentence in sentences if not is_filler(list(sentence), variants)]
    if any(is_question(sentence) for sentence in sentences) or any(has_verb(list(s)) for s in content):
        return False
    first_word = next((token.lower_ for token in context.turn.doc if not token.is_punct), "")
    return bool(content) or first_word in _YES_NO_WORDS


def turn_edus(
    turn: TurnInput, previous: PrecedingQuestion | None
) -> tuple[list[ExtractedEDU], PrecedingQuestion | None]:
    """Build the EDUs of ``turn`` and return them with the turn's last question, if any.

    Args:
        turn: The parsed turn.
        previous: The last question of the previous turn when someone else asked it.
    """
    doc = turn.doc
    rewrite = rewrite_persons(doc, turn.participants)
    times = _resolve_times(doc, turn.base_date)
    context = _TurnContext(turn, rewrite, times, _annotations(times), ParsedPhrases.of(doc))
    sentences = list(doc.sents)
    variants = turn.participant_names

    if previous is not None and _is_short_answer(sentences, context):
        answer = _answer_edu(context, previous)
        return ([answer] if answer else []), None

    edus: list[ExtractedEDU] = []
    last_question: PrecedingQuestion | None = None
    for sentence in sentences:
        sentence_tokens = strip_edges(list(sentence), variants)
        opener = opener_positions(sentence_tokens)
        sentence_tokens = [token for token in sentence_tokens if token.i not in opener]
        if not sentence_tokens or is_filler(sentence_tokens, variants):
            continue
        if is_question(sentence):
            edus.append(_make_edu(context, sentence_tokens, question=True))
            body = render(sentence_tokens, rewrite.replacements, context.annotations)
            body = _lower_first(body, sentence_tokens[0], rewrite.replacements)
            last_question = PrecedingQuestion(turn.participants.speaker, _sentence_text(body, question=True))
            continue
        for clause in split_clauses(sentence):
            clause_tokens = strip_edges([token for token in clause if token.i not in opener], variants)
            if clause_tokens and not is_filler(clause_tokens, variants):
                edus.append(_make_edu(context, clause_tokens, question=False))

    if not edus and not is_filler(list(doc), variants):
        # Content that no sentence kept, e.g. when every clause alone looked like filler.
        logger.debug("turn %s: no clause kept, using the whole turn", turn.turn_id)
        whole = strip_edges(list(doc), variants)
        if whole:
            edus.append(_make_edu(context, whole, question=False))
    return edus, last_question


def caption_edu(turn_id: str, speaker: str, caption: Doc, participant_names: Mapping[str, str]) -> ExtractedEDU | None:
    """Build the EDU of a picture shared in a turn, from the picture's caption."""
    text = " ".join(caption.text.split()).rstrip(_TRAILING_PUNCTUATION)
    if not text:
        return None
    # BLIP captions in LoCoMo sometimes open with "a photography of".
    text = re.sub(r"(?i)^a photography of\b", "a photo of", text)
    phrase = text if _PICTURE_OPENING.match(text) else f"a photo of {text}"

    collector = ArgumentCollector()
    collector.add(-1, speaker, ArgumentKind.PERSON, "agent")
    tokens = [token for token in caption if token.lemma_.lower() not in PICTURE_NOUNS]
    arguments = collect_arguments(tokens, (), participant_names, (), ParsedPhrases.of(caption), collector)
    return ExtractedEDU(
        text=f"{speaker} shared {phrase}.",
        speakers=(speaker,),
        arguments=arguments,
        source_turn_ids=(turn_id,),
    )
