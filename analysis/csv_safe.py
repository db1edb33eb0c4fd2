"""The one CSV writer of the project: text that a spreadsheet would run as a formula is neutralised.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel, LibreOffice and
Google Sheets (OWASP "CSV injection"), so a statement such as ``=HYPERLINK("http://evil.example","Click")`` would
run in the facilitator's spreadsheet. As OWASP recommends, such a text cell is written with a leading single quote
(``'=HYPERLINK(...)``), which spreadsheets show as text; the csv module quotes cells holding separators or quotes.
Numbers are written as they are (a vote of ``-1`` stays a number, also when given as the text ``"-1"``). A text
that already starts with quotes before one of those characters gets one more quote, so :func:`restore` undoes
:func:`neutralise` exactly.

It lives in :mod:`analysis` because both packages write CSV and ``analysis`` imports nothing from ``participate``.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _needs_quote(text: str) -> bool:
    return bool(_FORMULA.match(text)) and not _NUMBER.fullmatch(text.lstrip("'"))


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would treat as a formula, with a leading ``'``; any other value (numbers, also
    written as text like ``"-1"``) unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The text :func:`neutralise` was given (for readers of our own files, e.g. a Pol.is export's comments)."""
    if text.startswith("'") and _needs_quote(text[1:]):
        return text[1:]
    return text


class Writer:
    """``csv.writer`` with every cell passed through :func:`neutralise`."""

    def __init__(self, stream, **kwargs) -> None:
        kwargs.setdefault("lineterminator", "\n")
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream, **kwargs) -> Writer:
    """A CSV writer (``"\\n"`` line ends unless told otherwise) that neutralises formulas; see the module."""
    return Writer(stream, **kwargs)
