"""Prompting a language model to translate: the prompt options, the prompt itself, and cutting the answer.

One module shared by every backend that prompts an LLM - `causal` (weights
loaded here) and `openai` (a served model) - so the same config gives the same
prompt wherever the model runs. A prompt is a template (`{source_lang}`,
`{target_lang}` as language *names*, `{source}`), optional few-shot examples
rendered with the same template, and an optional system prompt; as chat
messages ([system], (user, assistant)*, user) for a chat template or a chat
endpoint, or as one plain text for a base model (the setup of
lm-evaluation-harness' `generate_until` tasks and of the WMT23/24 LLM
baselines). The answer is the continuation up to the first stop string (a line
break by default: the default template asks for one line after "Thai:"),
stripped.

Pure: no model, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable, Sequence

from pydantic import Field, field_validator

from evalkit.backends.base import BackendOptions
from evalkit.languages import get_language

DEFAULT_PROMPT = "Translate the following {source_lang} text into {target_lang}.\n{source_lang}: {source}\n{target_lang}:"
TEMPLATE_FIELDS = frozenset({"source_lang", "target_lang", "source"})
EXAMPLE_SEPARATOR = "\n\n"  # between system prompt, few-shot examples and the query in a plain prompt


class FewShotExample(BackendOptions):
    source: str
    target: str


class PromptOptions(BackendOptions):
    """The options that shape the prompt and cut the answer; a prompting backend's `Options` extends these."""

    prompt: str = Field(
        DEFAULT_PROMPT,
        description="template with {source_lang}, {target_lang} (language names) and {source}; write {{ }} for literal braces",
    )
    few_shot: list[FewShotExample] = Field(
        default_factory=list, description="examples [{source, target}] rendered before the query with the same template"
    )
    system_prompt: str | None = Field(None, description="system message (chat) or a first paragraph (plain prompt)")
    stop: list[str] = Field(default_factory=lambda: ["\n"], description="the answer ends at the first of these")

    @field_validator("prompt")
    @classmethod
    def _check_template(cls, value: str) -> str:
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"prompt is not a valid template ({exc}); write {{{{ and }}}} for literal braces") from None
        unknown = sorted(f for f in fields if f not in TEMPLATE_FIELDS)
        if unknown:
            raise ValueError(
                f"prompt uses unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)}; "
                f"allowed: {{source_lang}}, {{target_lang}}, {{source}}"
            )
        if "source" not in fields:
            raise ValueError("prompt must contain {source}")
        return value

    @field_validator("stop")
    @classmethod
    def _check_stop(cls, value: list[str]) -> list[str]:
        if any(s == "" for s in value):
            raise ValueError("stop strings must not be empty (an empty one would cut every answer to nothing)")
        return value


ChatRenderer = Callable[[list[dict[str, str]]], str]


def fill_template(template: str, source: str, source_lang: str, target_lang: str) -> str:
    """The template with language names (from ISO 639-1 codes) and the source text filled in."""
    return template.format(
        source_lang=get_language(source_lang).name, target_lang=get_language(target_lang).name, source=source
    )


def build_messages(options: PromptOptions, source: str, source_lang: str, target_lang: str) -> list[dict[str, str]]:
    """Chat messages: [system], (user example, assistant answer)*, user query."""
    messages = [{"role": "system", "content": options.system_prompt}] if options.system_prompt else []
    for example in options.few_shot:
        messages.append({"role": "user", "content": fill_template(options.prompt, example.source, source_lang, target_lang)})
        messages.append({"role": "assistant", "content": example.target})
    messages.append({"role": "user", "content": fill_template(options.prompt, source, source_lang, target_lang)})
    return messages


def render_prompt(
    options: PromptOptions, source: str, source_lang: str, target_lang: str, chat: ChatRenderer | None = None
) -> str:
    """The exact text the model continues.

    `chat` renders chat messages to text (the tokenizer's chat template with a
    generation prompt); None gives a plain prompt: system prompt, then each
    few-shot example as the filled template followed by its answer, then the
    query, separated by blank lines.
    """
    if chat is not None:
        return chat(build_messages(options, source, source_lang, target_lang))
    parts = [options.system_prompt] if options.system_prompt else []
    for example in options.few_shot:
        shot = fill_template(options.prompt, example.source, source_lang, target_lang)
        parts.append(shot + ("" if shot[-1:].isspace() else " ") + example.target)
    parts.append(fill_template(options.prompt, source, source_lang, target_lang))
    return EXAMPLE_SEPARATOR.join(parts)


def find_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index of the earliest stop string in `text`, or None."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(found) if found else None


def cut_answer(text: str, stops: Sequence[str]) -> str:
    """The generated continuation up to the first stop string, stripped."""
    index = find_stop(text, stops)
    return (text if index is None else text[:index]).strip()


def prompt_hash(options: PromptOptions, chat_template: str | None) -> str:
    """A short hash of everything that shapes the prompt; `chat_template` is the template text when one is used."""
    payload = {
        "prompt": options.prompt,
        "few_shot": [[e.source, e.target] for e in options.few_shot],
        "system_prompt": options.system_prompt,
        "chat_template": None if chat_template is None else hashlib.sha256(chat_template.encode()).hexdigest(),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# An instruction-tuned model sometimes answers with a refusal or a remark instead of a translation.
# Such an answer is kept as the candidate (it is what the system produced and it scores as it should)
# and flagged, so a low score can be told apart from a refusal. English only: these are the phrasings
# chat models use regardless of the requested language; the patterns match only at the answer's start.
_REFUSAL = re.compile(
    r"^\W*(?:i(?:'|’)?m sorry|sorry,|i apologi[sz]e|as an ai\b|i (?:cannot|can(?:'|’)?t|can not|am unable to|"
    r"(?:'|’)?m unable to|am not able to|won(?:'|’)?t) (?:translate|help|assist|provide|comply|do that))",
    re.IGNORECASE,
)


def looks_refused(answer: str) -> bool:
    """Whether an answer reads as a refusal ("I cannot translate…", "I'm sorry, …") rather than a translation."""
    return bool(_REFUSAL.match(answer))
