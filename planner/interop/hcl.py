"""A small writer of Terraform's native syntax (HCL): blocks, attributes, values, references.

Only what the exporter writes: strings are quoted and escaped (`${` and `%{` too, so a name never
turns into an interpolation), numbers and booleans are literal, lists and maps are inline, and
`Ref` is an expression written as is (`var.subnet_ids["ap-northeast-2"]`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")
BARE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")  # an object key that needs no quotes


@dataclass(frozen=True)
class Ref:
    """An HCL expression written verbatim."""

    expr: str


@dataclass(frozen=True)
class Block:
    """`type "label" ... { body }`; body items are (name, value) attributes or nested Blocks."""

    type: str
    labels: tuple[str, ...] = ()
    body: tuple[tuple[str, Any] | Block, ...] = ()
    comment: str = ""


def identifier(*parts: str) -> str:
    """A Terraform name from free text: letters, digits and underscores, starting with a letter."""
    text = IDENTIFIER.sub("_", "_".join(parts)).strip("_").lower()
    return text if text[:1].isalpha() else f"r_{text}"


def quote(text: str) -> str:
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def value(v: Any) -> str:
    if isinstance(v, Ref):
        return v.expr
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, str):
        return quote(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = (f"{_key(str(k))} = {value(x)}" for k, x in v.items())
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"no HCL form for {type(v).__name__}")


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else quote(key)


def render(block: Block, indent: int = 0) -> str:
    pad = "  " * indent
    head = " ".join([block.type, *(quote(label) for label in block.labels)])
    lines = [f"{pad}# {line}".rstrip() for line in block.comment.splitlines()]
    lines.append(f"{pad}{head} {{")
    for item in block.body:
        if isinstance(item, Block):
            lines.append(render(item, indent + 1))
        else:
            name, v = item
            lines.append(f"{pad}  {name} = {value(v)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines)


def render_all(blocks: list[Block]) -> str:
    return "\n\n".join(render(b) for b in blocks) + "\n"
