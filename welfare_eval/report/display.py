"""The one way data reach a page: every table through ``show``, every value in Markdown through ``md``.

Nothing read from a data file (column names, region and kecamatan names, text values, messages
that quote them) may become markup in the reader or analyst HTML: nbconvert copies HTML and the
HTML inside Markdown outputs as they are, without sanitizing. ``show`` renders a table with every
cell and every header escaped (pandas Styler, ``escape="html"``); ``md`` escapes a value for the
inside of Markdown text (HTML special characters, then the Markdown punctuation that would make
links, images, emphasis or code of it); ``md_lines`` does it for a list of bullet lines.
"""
from __future__ import annotations

import html
import re

import pandas as pd

from .strings import fmt_number, fmt_pct

#: Markdown punctuation that could turn data into a link or an image (brackets), emphasis, code, a
#: heading, a table cell or strike-through (CommonMark/GFM backslash escapes); "<" and ">" are
#: HTML-escaped first, which also stops autolinks and block quotes. Parentheses and "!" do nothing
#: without the brackets and stay as written.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md(value) -> str:
    """A value from the data, safe inside Markdown text: shown as written, never markup."""
    # quotes need no escaping in text (and "&#x27;" would meet the "#" escaped below)
    text = html.escape(str(value), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # a line break in a value would start a new Markdown block (a heading, a list, raw HTML)
    return " ".join(text.splitlines())


def md_lines(lines) -> str:
    """Bullet lines (each from data or from messages quoting data) as Markdown, each escaped."""
    return "\n".join(f"- {md(line)}" for line in lines)


def show(table: pd.DataFrame, language: str = "id", *, pct_columns=(), digits: int = 1):
    """A table for readers: no index, numbers in the language's format, shares as percentages,
    every cell and column name HTML-escaped (the one renderer every report table goes through)."""
    from pandas.api.types import is_float_dtype, is_integer_dtype

    # escape="html" makes the default formatter of every cell escape; the explicit formatters
    # below get numbers; headers are escaped by format_index
    from pandas.io.formats.style import Styler

    styler = Styler(table, escape="html").hide(axis="index")
    fmt = {}
    for col in table.columns:
        if col in pct_columns:
            fmt[col] = lambda v, lang=language: fmt_pct(v, lang, digits=digits)
        elif is_integer_dtype(table[col].dtype):
            fmt[col] = lambda v, lang=language: fmt_number(v, lang)
        elif is_float_dtype(table[col].dtype):
            fmt[col] = lambda v, lang=language: fmt_number(v, lang, digits=digits)
    styler = styler.format(fmt, escape="html") if fmt else styler
    if table.attrs.get("note"):  # a line under the table (a definition, a convention), escaped like the cells
        styler = styler.set_caption(html.escape(str(table.attrs["note"]))).set_table_styles(
            [{"selector": "caption", "props": "caption-side: bottom; text-align: left; font-size: 0.9em;"}],
            overwrite=False)
    return styler.format_index(escape="html", axis=1).format_index(escape="html", axis=0)
