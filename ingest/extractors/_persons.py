"""Replace first- and second-person pronouns by the names of speaker and listener.

"I", "me", "myself" become the speaker's name and "my", "mine" the possessive
("Caroline's"). "You", "yourself" become the listener's name and "your", "yours" the
listener's possessive. A finite verb whose subject was replaced is put in the third
person singular ("I'm" → "Caroline is", "you've" → "Melanie has", "I love" →
"Caroline loves").

"We" and "us" always include the speaker, but whether the others are the listener,
the speaker's family or people in general cannot be determined from one sentence. They
become "<speaker> and others", or "<speaker> and <listener>" when the verb is one of
talking or meeting ("since we last talked") or "both"/"two" follows ("we both").
"Our" and "ours" become the speaker's possessive, because "our kids" and "our
city" read correctly as "Melanie's kids" and "Melanie's city".
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field

from spacy.tokens import Token

SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})
OBJECT_DEPS = frozenset({"dobj", "dative", "pobj", "iobj", "attr", "oprd"})

_SPEAKER_NAME = frozenset({"i", "me", "myself"})
_SPEAKER_POSSESSIVE = frozenset({"my", "mine", "our", "ours"})
_SPEAKER_GROUP = frozenset({"we", "us"})
_LISTENER_NAME = frozenset({"you", "yourself", "yourselves", "u"})
_LISTENER_POSSESSIVE = frozenset({"your", "yours"})

# Words after which a name is a form of address even without a comma: "Thanks Mel!".
_GREETINGS = frozenset(
    {"bye", "congrats", "hello", "hey", "hi", "oh", "ok", "okay", "thanks", "wow", "yeah", "yes", "yep"}
)

# Verbs after which "we" means the two people in the conversation.
_MUTUAL_VERBS = frozenset({"talk", "speak", "chat", "catch", "hang", "meet"})

_THIRD_PERSON = {
    "am": "is",
    "'m": "is",
    "are": "is",
    "'re": "is",
    "were": "was",
    "have": "has",
    "'ve": "has",
    "do": "does",
    "'ll": "will",
}
_CONTRACTED_VERBS = frozenset({"'m", "'re", "'ve", "'d", "'ll"})


@dataclass(frozen=True)
class Participants:
    """Names that first- and second-person pronouns of one turn refer to."""

    speaker: str
    listener: str | None


@dataclass(frozen=True)
class PersonReference:
    """A pronoun that was replaced by a participant's name."""

    token_index: int
    name: str
    role: str


@dataclass
class PersonRewrite:
    """Replacement texts by token index, and the participants the pronouns named."""

    replacements: dict[int, str] = field(default_factory=dict)
    references: list[PersonReference] = field(default_factory=list)


def possessive(name: str) -> str:
    """Return the English possessive of ``name``: 'Caroline's', 'James''."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _key(token: Token) -> str:
    return token.lower_.replace("\u2019", "'")


def _is_pronoun(token: Token) -> bool:
    # "US" the country is a proper noun, while "i" typed in lower case is still a pronoun.
    return token.pos_ == "PRON" or token.tag_ in ("PRP", "PRP$")


def _role(token: Token) -> str:
    if token.dep_ in SUBJECT_DEPS:
        return "agent"
    if token.dep_ in OBJECT_DEPS:
        return "patient"
    return "mention"


def _is_mutual(token: Token) -> bool:
    """Tell whether "we" or "us" means the two people talking: "since we talked", "us two", "both of us"."""
    doc = token.doc
    following = doc[token.i + 1].lower_ if token.i + 1 < len(doc) else ""
    preceding = doc[token.i - 2 : token.i].text.lower() if token.i >= 2 else ""
    return token.head.lemma_.lower() in _MUTUAL_VERBS or following in ("both", "two") or preceding == "both of"


def _replacement(token: Token, participants: Participants) -> tuple[str, str] | None:
    """Return the replacement text and the participant it names, or None to keep the token."""
    key = _key(token)
    speaker, listener = participants.speaker, participants.listener
    if key in _SPEAKER_NAME:
        return speaker, speaker
    if key in _SPEAKER_POSSESSIVE:
        return possessive(speaker), speaker
    if key in _SPEAKER_GROUP and token.text != "US":
        if listener is not None and _is_mutual(token):
            return f"{speaker} and {listener}", speaker
        return f"{speaker} and others", speaker
    if key == "ourselves":
        return "themselves", speaker
    if listener is None:
        return None
    if key in _LISTENER_NAME:
        # NOTE: generic "you" ("you never know") is also replaced by the listener's name.
        return listener, listener
    if key in _LISTENER_POSSESSIVE:
        return possessive(listener), listener
    return None


def subject_of(verb: Token) -> Token | None:
    """Return the subject of ``verb``, looking through auxiliaries and coordinated verbs."""
    current = verb.head if verb.dep_ in ("aux", "auxpass") else verb
    for _ in range(4):
        subjects = [child for child in current.children if child.dep_ in SUBJECT_DEPS]
        if subjects:
            # A misparsed vocative ("Hey Caroline, I've had ...") can be a second subject.
            # The subject nearest before the verb is the real one.
            before = [subject for subject in subjects if subject.i < current.i]
            return before[-1] if before else subjects[0]
        if current.dep_ != "conj" or current.head.i == current.i:
            return None
        current = current.head
    return None


def third_person_singular(verb: Token) -> str:
    """Return ``verb`` in the third person singular present, or past for 'were'."""
    key = _key(verb)
    if key == "'d":
        form = "would" if verb.tag_ == "MD" else "had"
    elif key in _THIRD_PERSON:
        form = _THIRD_PERSON[key]
    else:
        form = _add_s(verb.text)
    if verb.text[:1].isupper():
        form = form[:1].upper() + form[1:]
    return form


def _expand_contraction(verb: Token) -> str:
    key = _key(verb)
    if key == "'d":
        return "would" if verb.tag_ == "MD" else "had"
    return {"'m": "am", "'re": "are", "'ve": "have", "'ll": "will"}[key]


def _add_s(word: str) -> str:
    lowered = word.lower()
    if lowered.endswith(("s", "sh", "ch", "x", "z", "o")):
        return word + "es"
    if len(lowered) > 1 and lowered.endswith("y") and lowered[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _needs_agreement(token: Token) -> bool:
    key = _key(token)
    # The tokenizer splits "wanna" into "wan na", and "wannas" is not a word.
    if key in ("wan", "gon"):
        return False
    return token.tag_ == "VBP" or key in _CONTRACTED_VERBS or key == "were"


def rewrite_persons(tokens: Iterable[Token], participants: Participants) -> PersonRewrite:
    """Compute the replacements for the first- and second-person pronouns of ``tokens``."""
    rewrite = PersonRewrite()
    singular_subjects: set[int] = set()
    plural_subjects: set[int] = set()
    token_list = list(tokens)

    for token in token_list:
        if not _is_pronoun(token):
            continue
        replaced = _replacement(token, participants)
        if replaced is None:
            continue
        text, name = replaced
        rewrite.replacements[token.i] = text
        if _key(token) == "us" and token.i + 1 < len(token.doc) and token.nbor(1).lower_ == "two":
            # "just us two" becomes "just Caroline and Melanie".
            rewrite.replacements[token.i + 1] = ""
        role = "mention" if token.tag_ == "PRP$" or text.endswith(("'s", "'")) else _role(token)
        rewrite.references.append(PersonReference(token.i, name, role))
        if _key(token) in ("i", "you", "u"):
            singular_subjects.add(token.i)
        elif _key(token) == "we":
            plural_subjects.add(token.i)

    for token in token_list:
        if token.pos_ not in ("AUX", "VERB") or not _needs_agreement(token):
            continue
        subject = subject_of(token)
        if subject is None:
            continue
        if subject.i in singular_subjects:
            form = third_person_singular(token)
        elif subject.i in plural_subjects and _key(token) in _CONTRACTED_VERBS:
            # "we're" becomes "Melanie and others are", so only the contraction is written out.
            form = _expand_contraction(token)
        else:
            continue
        # A contraction is written against its subject ("I'm"), so the full verb needs a space.
        if _key(token) in _CONTRACTED_VERBS and token.i > 0 and not token.doc[token.i - 1].whitespace_:
            form = f" {form}"
        rewrite.replacements[token.i] = form
    return rewrite


def name_lookup(names: Sequence[str]) -> dict[str, str]:
    """Map the lower-cased forms by which ``names`` may be addressed to the full name.

    The forms are each full name, its first word, and prefixes of at least three
    letters of the first word, so that 'Mel' maps to 'Melanie'. A form shared by two
    names maps to neither.
    """
    candidates: dict[str, set[str]] = {}
    for name in names:
        lowered = name.lower()
        words = lowered.split()
        first = words[0] if words else lowered
        forms = {lowered} | {first[:length] for length in range(3, len(first) + 1)}
        for form in forms:
            candidates.setdefault(form, set()).add(name)
    return {form: next(iter(owners)) for form, owners in sorted(candidates.items()) if len(owners) == 1}


def is_vocative(token: Token, variants: Container[str]) -> bool:
    """Tell whether ``token`` addresses a participant by name, as in 'Thanks, Mel!'."""
    if token.pos_ != "PROPN" or token.lower_ not in variants:
        return False
    doc = token.doc
    previous = None if token.is_sent_start else doc[token.i - 1]
    following = doc[token.i + 1] if token.i + 1 < len(doc) and not doc[token.i + 1].is_sent_start else None
    before_ok = previous is None or previous.is_punct or previous.pos_ == "INTJ" or previous.lower_ in _GREETINGS
    after_ok = following is None or following.is_punct
    return before_ok and after_ok
