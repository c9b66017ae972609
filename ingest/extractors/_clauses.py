"""Split parsed sentences into clauses and tell content from conversational filler.

A sentence is split where the dependency parse shows an independent clause with
its own verb and subject:

* coordinated clauses ("I went there and it was great", dep ``conj``),
* clauses set side by side (dep ``parataxis``, or a ``ccomp`` without "that"
  separated by a comma, dash or semicolon: "I'm keen on it - I'd love to help"),
* concessive clauses ("although it rained", dep ``advcl`` with a concessive marker).

Other subordinate clauses (because, when, if, relative clauses) stay with their
main clause, because cut off they would lose the subject or the condition that
makes them true.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence

from spacy.tokens import Span, Token

from ingest.extractors._persons import SUBJECT_DEPS, is_vocative

_SEPARATORS = frozenset({",", "-", "\u2013", "\u2014", ";", ":", "..."})
_CONCESSIVE_MARKERS = frozenset({"although", "though", "whereas"})
_VERB_POS = frozenset({"VERB", "AUX"})
_ANAPHORIC_SUBJECTS = frozenset({"it", "this", "that", "they", "these", "those", "which", "he", "she"})

# Words that open or close a chat message without adding content.
_DISCOURSE_WORDS = frozenset(
    {
        "ah", "anyway", "anyways", "aw", "aww", "btw", "haha", "hah", "hehe", "hey", "hi",
        "hello", "hmm", "lol", "no", "nope", "oh", "ok", "okay", "omg", "um", "uh",
        "well", "wow", "yeah", "yes", "yep", "yup",
    }
)  # fmt: skip

# Lemmas that carry no retrievable content in chat: greetings, thanks, praise and
# reactions. A sentence made only of these, stop words and names is filler.
FILLER_LEMMAS = frozenset(
    {
        "absolutely", "agree", "amazing", "appreciate", "awesome", "bet", "bye", "care",
        "cheer", "cheers", "check", "congrats", "congratulation", "congratulations", "cool",
        "day", "definitely", "exactly", "excited", "fantastic", "glad", "good", "goodbye",
        "great", "happy", "hear", "incredible", "keep", "kind", "later", "like", "look",
        "lot", "love", "lovely", "luck", "mean", "new", "nice", "night", "proud", "right",
        "see", "soon", "sound", "super", "sure", "sweet", "take", "talk", "thank", "thanks",
        "totally", "true", "wait", "welcome", "wish", "wonderful", "yay",
        # Halves of "gonna", "wanna" and "gotta" as the tokenizer splits them.
        "gon", "wan", "na", "ta",
    }
    | _DISCOURSE_WORDS
)  # fmt: skip

# Openers that announce news without stating any: "Guess what, ...", "You know what? ...".
_OPENERS = (("guess", "what"), ("you", "know", "what"))

# Questions that open or return a greeting: "How's it going?", "What's up with you?".
_GREETING_QUESTION = re.compile(
    r"(?i)^(?:how(?:'s|\s+is|\s+are|\s+have)?\s+(?:it\s+going|you(?:\s+been|\s+doing)?|things|everything|life)"
    r"|what'?s\s+(?:up|new)|(?:what|how)\s+about\s+you|and\s+you)(?:\s+with\s+you)?\s*\W*$"
)

_FUNCTION_POS = frozenset({"PRON", "DET", "ADP", "CCONJ", "SCONJ", "PART", "INTJ", "PUNCT", "SYM", "X", "AUX", "SPACE"})


def has_verb(tokens: Sequence[Token]) -> bool:
    """Tell whether ``tokens`` contain a verb or auxiliary."""
    return any(token.pos_ in _VERB_POS for token in tokens)


def is_question(sentence: Span) -> bool:
    """Tell whether ``sentence`` ends with a question mark, possibly among other closing punctuation."""
    for token in reversed(sentence):
        if not (token.is_punct or token.is_space):
            return False
        if "?" in token.text:
            return True
    return False


def is_content_token(token: Token, name_variants: Container[str]) -> bool:
    """Tell whether ``token`` carries content worth retrieving."""
    if token.is_punct or token.is_space or token.is_stop or token.pos_ in _FUNCTION_POS:
        return False
    if token.lemma_.lower() in FILLER_LEMMAS or token.lower_ in FILLER_LEMMAS:
        return False
    return not is_vocative(token, name_variants)


def is_filler(tokens: Sequence[Token], name_variants: Container[str]) -> bool:
    """Tell whether ``tokens`` are a greeting or contain no content token, as in 'Thanks, Mel!'."""
    text = "".join(token.text_with_ws for token in tokens).replace("\u2019", "'").strip()
    if _GREETING_QUESTION.match(text):
        return True
    return not any(is_content_token(token, name_variants) for token in tokens)


def _has_subject(token: Token) -> bool:
    return any(child.dep_ in SUBJECT_DEPS for child in token.children)


def _separated_from_head(token: Token) -> bool:
    """Tell whether a comma, dash or semicolon attached at clause level lies between ``token`` and its head."""
    head = token.head
    low, high = sorted((token.i, head.i))
    doc = token.doc
    return any(doc[i].text in _SEPARATORS and doc[i].head.i in (token.i, head.i) for i in range(low + 1, high))


def _has_anaphoric_subject(token: Token) -> bool:
    """Tell whether the subject of ``token`` points back into the sentence, as 'it' in '..., and it was great'."""
    return any(child.dep_ in SUBJECT_DEPS and child.lower_ in _ANAPHORIC_SUBJECTS for child in token.children)


def _starts_clause(token: Token) -> bool:
    if token.pos_ not in _VERB_POS or not _has_subject(token):
        return False
    # Cut off, "it was so powerful" would no longer name what was powerful.
    if _has_anaphoric_subject(token):
        return False
    # A clause hangs off the main verb or another clause. A conjunct of a noun
    # ("the struggles I had and how much I've grown") is part of a noun phrase.
    head = token.head
    if head.dep_ != "ROOT" and not _starts_clause(head):
        return False
    if token.dep_ in ("conj", "parataxis"):
        return True
    if token.dep_ == "ccomp":
        has_marker = any(child.dep_ == "mark" for child in token.children)
        return not has_marker and _separated_from_head(token)
    if token.dep_ == "advcl":
        return any(child.dep_ == "mark" and child.lower_ in _CONCESSIVE_MARKERS for child in token.children)
    return False


def split_clauses(sentence: Span) -> list[list[Token]]:
    """Split ``sentence`` into clauses, each a list of tokens in text order.

    The clauses come in the order of their first token. A sentence whose root is
    not a verb stays whole, so that no clause is left without a verb.
    """
    root = sentence.root
    if root.pos_ not in _VERB_POS:
        return [list(sentence)]

    clauses: dict[int, list[Token]] = {}
    for token in sentence:
        head = token
        while head.i != root.i and not _starts_clause(head):
            head = head.head
        clauses.setdefault(head.i, []).append(token)
    return sorted(clauses.values(), key=lambda tokens: tokens[0].i)


def _is_edge_noise(token: Token, name_variants: Container[str]) -> bool:
    if token.is_punct or token.is_space or token.dep_ in ("cc", "intj") or token.pos_ == "INTJ":
        return True
    if token.dep_ == "mark" and token.lower_ in _CONCESSIVE_MARKERS:
        return True
    return is_vocative(token, name_variants)


def _is_detached_discourse_word(tokens: Sequence[Token], position: int, neighbour: int) -> bool:
    """Tell whether a word like 'well' or 'yeah' is set off by punctuation on the inner side.

    ``neighbour`` is -1 or +1, the side towards the rest of the clause. "Well, I did"
    loses its "Well" but "I did well" keeps it.
    """
    if tokens[position].lower_ not in _DISCOURSE_WORDS:
        return False
    inner = position + neighbour
    return 0 <= inner < len(tokens) and tokens[inner].is_punct


def opener_positions(tokens: Sequence[Token]) -> set[int]:
    """Return the doc positions of an opener such as 'Guess what,' that starts ``tokens``, with its punctuation.

    The opener must end the sentence or be followed by punctuation, so that
    "Guess what I found" keeps its words.
    """
    words = tuple(token.lower_ for token in tokens)
    for opener in _OPENERS:
        size = len(opener)
        if words[:size] != opener or (size < len(tokens) and not tokens[size].is_punct):
            continue
        end = size
        while end < len(tokens) and tokens[end].is_punct:
            end += 1
        return {token.i for token in tokens[:end]}
    return set()


def strip_edges(tokens: Sequence[Token], name_variants: Container[str]) -> list[Token]:
    """Drop punctuation, conjunctions, interjections and vocatives from both ends of ``tokens``."""
    start, end = 0, len(tokens)
    if [token.lower_ for token in tokens[:3]] == ["by", "the", "way"]:
        start = 3
    while start < end and (
        _is_edge_noise(tokens[start], name_variants) or _is_detached_discourse_word(tokens, start, 1)
    ):
        start += 1
    while end > start and (
        _is_edge_noise(tokens[end - 1], name_variants) or _is_detached_discourse_word(tokens, end - 1, -1)
    ):
        end -= 1
    return list(tokens[start:end])
