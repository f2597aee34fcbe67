"""Snippets: the best passage of an article's body with every matched word or fragment marked.

Matching runs on the normalised text (:func:`search.analysis.normalize` keeps the length), so the
spans found there mark the page's own characters. The text around the marks is HTML-escaped: a
snippet is safe to insert into a page as it is.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from search.analysis import normalize
from search.query.language import term_pattern
from search.query.plan import Term

SNIPPET_CHARS = 120
SNIPPET_CANDIDATES = 1000  # matches tried as the start of the snippet's passage
# Matches collected from one text: a megabyte-long body matching 400,000 times is previewed from its
# first matches, in milliseconds, instead of building 400,000 spans for one snippet.
MAX_SNIPPET_MATCHES = 5000


def highlight_pattern(terms: Sequence[Term]) -> re.Pattern[str] | None:
    """One regex for every text term (and place name), longest first (so overlapping marks do not nest)."""
    compiled = [term_pattern(t) for t in terms if t.scope != "reporter" and t.date is None]
    patterns = sorted({p.pattern for p in compiled if p is not None}, key=len, reverse=True)
    patterns = [p for p in patterns if p]
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _mark(text: str, spans: Sequence[tuple[int, int]], start: int, end: int) -> str:
    """HTML for ``text[start:end]`` with the given spans (inside it) wrapped in ``<mark>``; spans that
    touch make one mark (two marks side by side read as a gap between the words)."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s == merged[-1][1]:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    out, pos = [], start
    for s, e in merged:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(html.escape(text[pos:s], quote=False))
        out.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        pos = e
    out.append(html.escape(text[pos:end], quote=False))
    return "".join(out).replace("\n", " ")


def make_snippet(text: str, pattern: re.Pattern[str] | None, size: int = SNIPPET_CHARS) -> str:
    """The best passage of ``text`` (~``size`` chars) with matches marked; a second, far-away passage
    is added (joined with …) when it holds query terms the first lacks. HTML-safe.
    """
    if not text:
        return ""
    spans: list[tuple[int, int]] = []
    keys: list[str] = []
    if pattern is not None:
        norm = normalize(text)
        for m in pattern.finditer(norm):
            if m.end() > m.start():
                spans.append((m.start(), m.end()))
                keys.append(m.group())
                if len(spans) >= MAX_SNIPPET_MATCHES:
                    break
    if not spans:
        end = min(len(text), size)
        return _mark(text, [], 0, end) + ("…" if end < len(text) else "")

    def window_at(i: int) -> tuple[int, int]:
        start = max(0, spans[i][0] - size // 4)
        # start after a sentence end close before the hit, if there is one
        cut = max(text.rfind(p, start, spans[i][0]) for p in "。！？\n")
        if cut != -1 and spans[i][0] - cut <= size // 3:
            start = cut + 1
        return start, min(len(text), start + size)

    # Matches are sorted and do not overlap, so those inside a window are a slice (found by bisection):
    # linear in the number of matches, not quadratic; and only the first matches are tried as window
    # starts, so a huge body (a 5 MB page without line breaks) costs a bounded amount per result.
    starts, ends = [a for a, _b in spans], [b for _a, b in spans]
    best, best_key = (0, 0), (-1, -1)
    for i in range(min(len(spans), SNIPPET_CANDIDATES)):
        s, e = window_at(i)
        inside = keys[bisect_left(starts, s) : bisect_right(ends, e)]
        key = (len(set(inside)), len(inside))
        if key > best_key:
            best, best_key = (s, e), key
    windows = [best]
    covered = {k for (a, b), k in zip(spans, keys) if a >= best[0] and b <= best[1]}
    for (a, b), k in zip(spans, keys):
        if k not in covered and len(windows) < 3:
            s = max(0, a - size // 6)
            e = min(len(text), s + size // 2)
            if all(e <= ws or s >= we for ws, we in windows):
                windows.append((s, e))
                covered |= {kk for (aa, bb), kk in zip(spans, keys) if aa >= s and bb <= e}
    windows.sort()
    pieces = []
    for s, e in windows:
        # never cut a match in half
        for a, b in spans:
            if a < e < b:
                e = b
            if a < s < b:
                s = a
        pieces.append((s, e))
    html_parts = [_mark(text, spans, s, e) for s, e in pieces]
    out = "…".join(html_parts)
    if pieces[0][0] > 0:
        out = "…" + out
    if pieces[-1][1] < len(text):
        out += "…"
    return out
