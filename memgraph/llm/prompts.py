"""Versioned prompt files: a system and a user message template in one Markdown file."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from memgraph.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

_SECTION = re.compile(r"^## +(System|User|Retry) *$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class PromptTemplate:
    """A chat prompt read from a Markdown file with a ``## System`` and a ``## User`` section.

    An optional ``## Retry`` section is the message added after a rejected
    response. Text before the first section is a note for people and is not sent.
    Placeholders are ``$name`` (:class:`string.Template` syntax, ``$$`` for a
    literal dollar sign). The version is the file name without ``.md``, so a
    changed prompt goes into a new file, e.g. ``edu_extraction_v2.md``.

    Attributes:
        version: Name of the prompt version, stored in checkpoints and cache keys.
        system: Template of the system message.
        user: Template of the user message.
        retry: Template of the message sent after a rejected response, with ``$reason``.
    """

    version: str
    system: str
    user: str
    retry: str = "Your previous answer was rejected: $reason. Answer again and follow every rule."

    @classmethod
    def from_text(cls, text: str, version: str, *, source: str = "prompt") -> PromptTemplate:
        """Parse the sections of a prompt file's text.

        Raises:
            ConfigurationError: a section is missing or repeated.
        """
        parts = _SECTION.split(text)
        # split() returns [preamble, name1, body1, name2, body2, ...].
        sections: dict[str, str] = {}
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            key = name.lower()
            if key in sections:
                raise ConfigurationError(f"{source}: the '## {name}' section appears twice")
            sections[key] = body.strip()
        missing = [name for name in ("system", "user") if not sections.get(name)]
        if missing:
            raise ConfigurationError(
                f"{source}: missing or empty section(s) {', '.join('## ' + name.title() for name in missing)}"
            )
        if "retry" in sections:
            return cls(version, sections["system"], sections["user"], sections["retry"])
        return cls(version=version, system=sections["system"], user=sections["user"])

    @classmethod
    def from_file(cls, path: str | Path) -> PromptTemplate:
        """Read a prompt file; its version is the file name without the suffix.

        Raises:
            ConfigurationError: the file cannot be read or lacks a section.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigurationError(f"cannot read prompt file {path}: {e}") from e
        return cls.from_text(text, path.stem, source=str(path))

    @classmethod
    def from_package(cls, package: str, name: str) -> PromptTemplate:
        """Read the prompt file ``prompts/<name>.md`` shipped inside ``package``."""
        resource = resources.files(package) / "prompts" / f"{name}.md"
        return cls.from_text(resource.read_text(encoding="utf-8"), name, source=f"{package}/prompts/{name}.md")

    @property
    def digest(self) -> str:
        """SHA-256 of the templates, so that an edited file without a new version still misses the cache."""
        return hashlib.sha256(f"{self.system}\x1f{self.user}\x1f{self.retry}".encode()).hexdigest()

    def render(self, **values: str) -> list[BaseMessage]:
        """Return the system and the user message with ``values`` substituted.

        Raises:
            ConfigurationError: a placeholder has no value.
        """
        from langchain_core.messages import HumanMessage, SystemMessage

        try:
            system = Template(self.system).substitute(values)
            user = Template(self.user).substitute(values)
        except (KeyError, ValueError) as e:
            raise ConfigurationError(f"prompt {self.version}: placeholder {e} has no value or is malformed") from e
        return [SystemMessage(content=system), HumanMessage(content=user)]

    def render_retry(self, reason: str) -> BaseMessage:
        """Return the message that requests a new response after one was rejected for ``reason``."""
        from langchain_core.messages import HumanMessage

        return HumanMessage(content=Template(self.retry).safe_substitute(reason=reason))
