"""Dates typed as text in a query: ``2024年11月22日``, ``2024-11-22``, ``2024年11月``, ``11月22日``.

:func:`find_dates` finds them in (NFKC-normalised) query text; :func:`date_clause` makes each one a
:class:`~search.query.plan.Clause` that matches an article *of* that date (its ``date`` field) or an
article whose text writes it (``11月22日``, spaces allowed between the parts, as scanned pages have
them: ``11 月 22 日``). Digits alone (``2024``) stay numbers: only a ``年``/``月``/``日`` or an ISO
form makes a date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from search.query.plan import Clause, DateSpec, Term

_NOT_DIGIT_BEFORE = r"(?<![0-9])"
_NOT_DIGIT_AFTER = r"(?![0-9])"
# Order matters: the longest forms are tried first at each position.
_PATTERNS = [
    re.compile(_NOT_DIGIT_BEFORE + r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(_NOT_DIGIT_BEFORE + r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _NOT_DIGIT_AFTER),
    re.compile(_NOT_DIGIT_BEFORE + r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月"),
    re.compile(_NOT_DIGIT_BEFORE + r"(?P<y>\d{4})-(?P<m>\d{1,2})" + r"(?![0-9-])"),
    re.compile(_NOT_DIGIT_BEFORE + r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(_NOT_DIGIT_BEFORE + r"(?P<y>\d{4})\s*年(?!\s*\d)"),
]
_YEARS = range(1900, 2101)


@dataclass(frozen=True)
class DateMatch:
    """A date found in query text: where, what was written, and the date it means."""

    start: int
    end: int
    text: str
    date: DateSpec


def _spec(match: re.Match[str]) -> DateSpec | None:
    groups = match.groupdict()
    year = int(groups["y"]) if groups.get("y") else None
    month = int(groups["m"]) if groups.get("m") else None
    day = int(groups["d"]) if groups.get("d") else None
    if year is not None and year not in _YEARS:
        return None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None:
        assert month is not None
        last = calendar.monthrange(year if year is not None else 2024, month)[1]  # 2024: Feb 29 exists
        if not 1 <= day <= last:
            return None
    return DateSpec(year, month, day)


def find_dates(text: str) -> list[DateMatch]:
    """The dates written in ``text``, left to right, not overlapping.

    >>> [(m.text, m.date.iso()) for m in find_dates("2024年11月22日高新区 11月5日 2024-08")]
    [('2024年11月22日', '2024-11-22'), ('11月5日', '--11-05'), ('2024-08', '2024-08')]
    >>> find_dates("2245点 13月1日")
    []
    """
    found: list[DateMatch] = []
    position = 0
    while position < len(text):
        best: tuple[re.Match[str], DateSpec] | None = None
        for pattern in _PATTERNS:
            match = pattern.search(text, position)
            if match is None:
                continue
            spec = _spec(match)
            if spec is None:
                continue
            if best is None or match.start() < best[0].start() or (match.start() == best[0].start() and match.end() > best[0].end()):
                best = (match, spec)
        if best is None:
            break
        match, spec = best
        found.append(DateMatch(match.start(), match.end(), match.group(0), spec))
        position = match.end()
    return found


def _written(date: DateSpec) -> list[str]:
    """How pages write the date, as phrase text (parts separated by spaces, so that a page's stray
    spaces between them still match): with a day, the month and day (pages rarely repeat the year)."""
    if date.day is not None:
        return [f"{date.month} 月 {date.day} 日"]
    if date.month is not None:
        return [f"{date.year} 年 {date.month} 月"]
    return [f"{date.year} 年"]


def date_clause(match: DateMatch) -> Clause:
    """The clause for a typed date: the article's date, or the date written in its text."""
    options = [Term(match.text, date=match.date)]
    typed = " ".join(re.findall(r"\w+", match.text))
    for text in [typed, *_written(match.date)]:
        term = Term(text, phrase=True)
        if term not in options:
            options.append(term)
    return Clause(match.text, tuple(options))
