"""Safe YAML loading for untrusted files: size cap, alias cap, safe constructors only.

`yaml.safe_load` already refuses arbitrary Python objects, but still expands aliases, so a
"billion laughs" document of a few hundred bytes can explode when traversed. We cap the input
size before parsing and the number of aliases while composing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem

MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 200
MAX_DEPTH = 64  # nesting levels; a spec needs about five, and deeper input only risks recursion


class TooManyAliasesError(yaml.YAMLError):
    """More aliases than a real spec uses: refused before any is expanded."""


_ALIAS_FIX = (
    "write the repeated values out in full: a spec needs a handful of aliases at most, and a "
    "file with hundreds is damaged or hostile"
)


class _AliasCappedLoader(yaml.SafeLoader):
    """SafeLoader that refuses documents with more aliases than a real spec would use."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise TooManyAliasesError(
                    f"more than {MAX_ALIASES} YAML aliases (*name); "
                    "the file looks like an alias bomb"
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"values nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A key given twice is refused: PyYAML would keep the last silently, so `demand:` written
        twice would plan on the second one without a word."""
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool | type(None)):
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        "a key must be a plain word, not a list or a mapping (write `name: value`)",
                        key_node.start_mark,
                    )
                if key is None:  # `~:`, `null:` or `: value`; pydantic would say "None"
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        "a key is empty (YAML reads `~`, `null` or nothing before the colon as "
                        "no key)",
                        key_node.start_mark,
                    )
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key `{key}` is given twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml_text(text: str, source: str, error: type[InputError] = InputError) -> Any:
    """Parse YAML text with the safe, alias-capped loader; raise `error` with the position."""
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise error(
            [
                Problem(
                    source,
                    "",
                    "",
                    f"file is larger than {MAX_YAML_BYTES // 1024} KiB",
                    fix="a spec or catalog file is a few KiB; check you chose the right file",
                )
            ]
        )
    loader = None
    try:
        # constructing the loader already reads the stream: control characters fail here
        loader = _AliasCappedLoader(text)
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        raise error([_marked_problem(exc, source)]) from None
    except yaml.reader.ReaderError as exc:  # a control character: it has a position, not a mark
        raise error([_reader_problem(exc, text, source)]) from None
    except TooManyAliasesError as exc:
        raise error([Problem(source, "", "", f"not valid YAML: {exc}", fix=_ALIAS_FIX)]) from None
    except yaml.YAMLError as exc:
        raise error(
            [Problem(source, "", "", f"not valid YAML: {exc}", fix="check the file is YAML text")]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


_SYNTAX_FIX = "check indentation, colons and quotes near that line"


def _position(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _marked_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    """PyYAML's error in a user's words: its context says what it was reading ("while scanning a
    quoted scalar", "expected a single document"), which is half the sentence; where it ran out
    of file, the place to look is where that context began, not the end of the file."""
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    mark = exc.problem_mark
    if context and exc.context_mark is not None and "end of stream" in problem:
        mark = exc.context_mark
        problem = f"{problem} ({_position(exc.problem_mark)})" if exc.problem_mark else problem
    message = f"not valid YAML: {context}, {problem}" if context else f"not valid YAML: {problem}"
    if "given twice" in problem:
        fix = "keep one of the two, merging what each says"
    elif "a key is empty" in problem:
        fix = "write the field's name before the colon (see docs/spec.md), or remove the line"
    elif "quoted scalar" in context:
        fix = "close the quote opened here, or remove it"
    elif "single document" in context:
        fix = (
            "keep one document per file: remove the `---` line and what follows it, or move "
            "that part to a file of its own"
        )
    elif "constructor for the tag" in problem:
        fix = "remove the tag (the word after `!`): a spec holds plain values only"
    elif "'\\t'" in problem:
        fix = "indent with spaces, not tabs"
    elif "nested more than" in problem:
        fix = "a spec needs about five levels of nesting: check you chose the right file"
    else:
        fix = _SYNTAX_FIX
    return Problem(source, _position(mark), "", message, fix=fix)


def _reader_problem(exc: yaml.reader.ReaderError, text: str, source: str) -> Problem:
    """A character YAML does not allow (NUL, other control characters), at its line and column."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
    return Problem(
        source,
        f"line {line}, column {column}",
        "",
        f"not valid YAML: the control character #x{char:04x} is not allowed in YAML text",
        fix="remove it: the file may be binary or damaged; save the spec as plain UTF-8 text",
    )


def load_yaml_file(path: Path, error: type[InputError] = InputError) -> Any:
    """Read and parse a YAML file safely; a missing, huge or binary file is an input error."""
    source = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise error(
            [Problem(source, "", "", f"cannot read the file: {exc.strerror}", fix="check the path")]
        ) from None
    if size > MAX_YAML_BYTES:
        raise error(
            [
                Problem(
                    source,
                    "",
                    "",
                    f"file is {size // 1024} KiB, larger than the "
                    f"{MAX_YAML_BYTES // 1024} KiB limit",
                    fix="a spec or catalog file is a few KiB; check you chose the right file",
                )
            ]
        )
    if not path.is_file():  # a folder, a device (/dev/zero), a pipe: nothing a spec can be
        raise error(
            [
                Problem(
                    source,
                    "",
                    "",
                    "not a regular file",
                    fix="give the path of a YAML file",
                )
            ]
        )
    try:
        # at most one byte past the limit, whatever stat said: a file can grow while it is read
        with path.open("rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:
            raise error(
                [
                    Problem(
                        source,
                        "",
                        "",
                        f"file is larger than the {MAX_YAML_BYTES // 1024} KiB limit",
                        fix="a spec or catalog file is a few KiB; check you chose the right file",
                    )
                ]
            )
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(
            [Problem(source, "", "", "file is not UTF-8 text", fix="save it as UTF-8 YAML")]
        ) from None
    except OSError as exc:
        raise error([Problem(source, "", "", f"cannot read the file: {exc.strerror}")]) from None
    return parse_yaml_text(text, source, error)
