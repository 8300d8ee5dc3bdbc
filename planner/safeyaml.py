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
                raise yaml.YAMLError(
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
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise error(
            [
                Problem(
                    source,
                    where,
                    "",
                    f"not valid YAML: {exc.problem}",
                    fix=(
                        "keep one of the two, merging what each says"
                        if "given twice" in str(exc.problem)
                        else "check indentation, colons and quotes near that line"
                    ),
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise error([Problem(source, "", "", f"not valid YAML: {exc}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


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
