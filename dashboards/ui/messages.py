"""The planner library's own messages (progress, notes, infeasibility reasons, what-if notes) in
the user's language.

The library writes English sentences with figures and names inside. dashboards/i18n/messages.yaml
lists each kind of sentence as a regular expression with named groups and a template per language
that puts those groups back; a group whose value is itself a library sentence (the reasons inside
"no repaired plan exists: ...") is translated too. A message no pattern matches stays as it is, and
`translate` says so, so that the page can add the "written by the library in English" caption and a
test can list what is missing. Pure: no Streamlit.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

FILE = Path(__file__).resolve().parent.parent / "i18n" / "messages.yaml"
NESTED_SEPARATORS = ("; ", ", or ", " and ")  # how the library joins sentences in one


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: re.Pattern[str]
    templates: dict[str, str]  # language -> template with the regex's group names as {fields}
    nested: tuple[str, ...]  # groups holding library sentences of their own
    values: dict[str, dict[str, dict[str, str]]]  # group -> language -> value -> its translation


@functools.cache
def patterns() -> tuple[Pattern, ...]:
    with open(FILE, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    out = []
    for name, item in raw["patterns"].items():
        out.append(
            Pattern(
                name=name,
                regex=re.compile(item["match"], re.DOTALL),
                templates={k: v for k, v in item.items() if k in ("en", "ko")},
                nested=tuple(item.get("nested", ())),
                values=item.get("values", {}),
            )
        )
    return tuple(out)


@functools.cache
def words(lang: str) -> dict[str, str]:
    """Single words and short phrases the library puts inside sentences (statuses, roles...)."""
    with open(FILE, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return {str(k): str(v[lang]) for k, v in raw.get("words", {}).items() if lang in v}


def match(message: str) -> tuple[Pattern, re.Match[str]] | None:
    text = message.strip()
    for pattern in patterns():
        found = pattern.regex.fullmatch(text)
        if found is not None:
            return pattern, found
    return None


def _nested(value: str, lang: str) -> tuple[str, bool]:
    whole = translate(value, lang)
    if whole[1]:
        return whole
    for sep in NESTED_SEPARATORS:
        if sep in value:
            parts = [translate(p, lang) for p in value.split(sep)]
            joined = {"ko": "; "}.get(lang, sep).join(text for text, _ in parts)
            return joined, all(ok for _, ok in parts)
    return translate(value, lang)


def translate(message: str, lang: str) -> tuple[str, bool]:
    """(the message in `lang`, whether it was translated). English comes back unchanged."""
    if lang == "en":
        return message, True
    split: tuple[str, bool] | None = None
    if "; " in message:  # sentences the library joined into one message: each on its own
        parts = [translate(part, lang) for part in message.split("; ")]
        split = "; ".join(text for text, _ in parts), all(ok for _, ok in parts)
        if split[1]:
            return split
    hit = match(message)
    if hit is None:
        return split or (message, False)
    pattern, found = hit
    template = pattern.templates.get(lang)
    if template is None:
        return message, False
    fields: dict[str, str] = {}
    ok = True
    for key, value in found.groupdict(default="").items():
        if key in pattern.nested:
            value, done = _nested(value, lang)
            ok = ok and done
        else:
            value = pattern.values.get(key, {}).get(lang, {}).get(value, value)
            value = words(lang).get(value, value)
        fields[key] = value
    return template.format(**fields), ok


def is_incident_note(message: str) -> bool:
    """The catalog's account of a real incident, which the page tells from i18n instead."""
    hit = match(message)
    return hit is not None and hit[0].name == "incident_note"
