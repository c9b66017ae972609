"""Creation and identification of LangChain chat models."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from memgraph.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

_SPEC = re.compile(r"^(?P<provider>[A-Za-z0-9_\-]+):(?P<model>\S.*)$")


def parse_model_spec(spec: str) -> tuple[str, str]:
    """Split ``'PROVIDER:MODEL'`` (e.g. ``'openai:gpt-4o-mini'``) into provider and model.

    Raises:
        ConfigurationError: ``spec`` has no provider prefix or no model name.
    """
    match = _SPEC.match(spec.strip())
    if match is None:
        raise ConfigurationError(
            f"invalid chat model {spec!r}: expected PROVIDER:MODEL, e.g. 'openai:gpt-4o-mini' or 'ollama:llama3.1'"
        )
    return match["provider"].lower().replace("-", "_"), match["model"].strip()


def create_chat_model(spec: str, **kwargs: Any) -> BaseChatModel:
    """Create a chat model from ``'PROVIDER:MODEL'`` with LangChain's ``init_chat_model``.

    Credentials come from the provider's usual environment variables, such as
    ``OPENAI_API_KEY``; ``kwargs`` go to the model's constructor.

    Raises:
        ConfigurationError: ``spec`` is invalid, the ``langchain`` package or the
            provider's integration package is missing, or the model cannot be created.
    """
    provider, model = parse_model_spec(spec)
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as e:
        package = "langchain-" + provider.replace("_", "-")
        raise ConfigurationError(
            f"chat model {spec!r} needs the 'langchain' package for init_chat_model; install it with "
            f"`pip install langchain` plus the provider's package, e.g. `pip install {package}`"
        ) from e

    try:
        chat_model = init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as e:
        # LangChain's message names the missing integration package, e.g. 'langchain-openai'.
        raise ConfigurationError(f"cannot create chat model {spec!r}: {e}") from e
    except ValueError as e:
        raise ConfigurationError(f"cannot create chat model {spec!r}: {' '.join(str(e).split())}") from e
    except Exception as e:  # provider constructors raise their own types, e.g. for a missing API key
        raise ConfigurationError(
            f"cannot create chat model {spec!r}: {type(e).__name__}: {e}. "
            "Check the provider's credentials and settings (e.g. OPENAI_API_KEY for openai)."
        ) from e
    logger.debug("created chat model %s:%s (%s)", provider, model, type(chat_model).__name__)
    return chat_model


def model_identifier(chat_model: BaseChatModel) -> str:
    """Return ``'provider:model'`` for ``chat_model``, e.g. ``'openai:gpt-4o-mini'``.

    The identifier comes from the model's LangSmith parameters (``ls_provider``
    and ``ls_model_name``), which name the provider and the model and never a
    credential. A model without a model name is identified by its class.
    """
    params: dict[str, Any] = {}
    try:
        params = dict(chat_model._get_ls_params())
    except Exception as e:  # a third-party model may not implement it
        logger.debug("%s has no LangSmith parameters: %r", type(chat_model).__name__, e)
    provider = str(params.get("ls_provider") or type(chat_model).__name__).lower()
    model = params.get("ls_model_name") or getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None)
    if not isinstance(model, str) or not model:
        return provider
    return f"{provider}:{model}"
