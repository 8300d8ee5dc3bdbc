"""Every string on screen comes from dashboards/i18n/<lang>.yaml through `t`.

The YAML files are nested mappings; `t("plan.solve")` reads `plan: {solve: ...}`. A key missing
from the active language renders as ⟦key⟧ so that tests (and eyes) catch it at once.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import streamlit as st
import yaml

LANGUAGES = ("en", "ko")
NATIVE_NAMES = {"en": "English", "ko": "한국어"}  # a language picker names each language in itself
DEFAULT = "en"
FOLDER = Path(__file__).resolve().parent.parent / "i18n"
MISSING = "⟦{}⟧"
log = logging.getLogger("dashboards.i18n")


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, full))
        else:
            out[full] = str(value)
    return out


@functools.cache
def strings(lang: str) -> dict[str, str]:
    """All strings of one language, keyed by dotted path (read once per process)."""
    with open(FOLDER / f"{lang}.yaml", encoding="utf-8") as fh:
        return _flatten(yaml.safe_load(fh) or {})


def lang() -> str:
    value = st.session_state.get("lang", DEFAULT)
    return value if value in LANGUAGES else DEFAULT


def t(key: str, **values: Any) -> str:
    """The text for `key` in the active language, with `{name}` fields filled from `values`."""
    text = strings(lang()).get(key)
    if text is None:
        log.warning("missing i18n key %s (%s)", key, lang())
        return MISSING.format(key)
    return text.format(**values) if values else text


def t_or(key: str, fallback: str) -> str:
    """For labels of catalog data (a provider, an incident) that a user's own catalog may add:
    the translation when we have one, else the catalog's own text."""
    return strings(lang()).get(key, fallback)


def has(key: str) -> bool:
    return key in strings(lang())


def init_language() -> None:
    """Start in the language of the URL (?lang=ko) on a fresh session, else English.

    The language lives in `lang`, a plain session key: a widget's own key would be dropped on any
    run that does not draw the widget."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", DEFAULT)
        st.session_state["lang"] = wanted if wanted in LANGUAGES else DEFAULT


def _picked() -> None:
    st.session_state["lang"] = st.session_state["lang_picker"]
    st.query_params["lang"] = st.session_state["lang"]


def language_switch() -> None:
    """The language picker in the sidebar; keeps ?lang= in the URL so links keep the language."""
    if st.session_state.get("lang_picker") != lang():
        st.session_state["lang_picker"] = lang()
    st.sidebar.segmented_control(
        t("app.language"),
        LANGUAGES,
        key="lang_picker",
        format_func=NATIVE_NAMES.__getitem__,
        required=True,
        on_change=_picked,
    )
