"""Helpers shared by the LLM extractor and the LLM seed filter.

Nothing here is imported unless a chat model is configured, and nothing here
needs a provider package until :func:`create_chat_model` is called.
"""

from memgraph.llm.calls import LLMUsage, StructuredOutputCaller, is_transient_error, parse_json_text
from memgraph.llm.chat_models import create_chat_model, model_identifier
from memgraph.llm.prompts import PromptTemplate

__all__ = [
    "LLMUsage",
    "PromptTemplate",
    "StructuredOutputCaller",
    "create_chat_model",
    "is_transient_error",
    "model_identifier",
    "parse_json_text",
]
