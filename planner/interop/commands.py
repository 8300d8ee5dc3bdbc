"""The `mcplan import` and `mcplan export` sub-commands, registered by planner.cli.

Kept here so the interop formats live beside their command-line wiring and cli.py only calls
:func:`add_commands`."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_common: Callable[..., None],
) -> None:
    """Register the interop sub-commands on the CLI's sub-parser set."""
