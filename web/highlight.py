"""Marking search terms in article text, and keeping engine snippets to ``<mark>`` only.

Article text is split into plain-data segments ``{"text", "mark"}`` so the template escapes every
character itself (no ``|safe``), and the JSON twin carries the same segments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markupsafe import Markup, escape

Segment = dict[str, object]

_MAX_TERMS = 50
# Marks in one text: a one-character term in a megabyte body would otherwise turn one short request
# into a million <mark> elements. Past this many, the rest of the text is plain.
MAX_MARKS = 2000


def _terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted({term.strip() for term in terms if term and term.strip()}, key=len, reverse=True)[:_MAX_TERMS]
    if not unique:
        return None
    return re.compile("|".join(re.escape(term) for term in unique), re.IGNORECASE)


def mark_segments(text: str, terms: Iterable[str], max_marks: int = MAX_MARKS) -> list[Segment]:
    """Split ``text`` into segments, ``mark`` true where one of ``terms`` occurs (longest first).

    >>> mark_segments("小微企业融资难", ["小微企业", "融资"])
    [{'text': '小微企业融资', 'mark': True}, {'text': '难', 'mark': False}]
    >>> mark_segments("无", [])
    [{'text': '无', 'mark': False}]
    """
    pattern = _terms_pattern(terms)
    if pattern is None or not text or max_marks <= 0:
        return [{"text": text, "mark": False}] if text else []
    segments: list[Segment] = []
    position = 0
    for marks, match in enumerate(pattern.finditer(text)):
        if marks >= max_marks:
            break
        if match.start() > position:
            segments.append({"text": text[position : match.start()], "mark": False})
        if segments and segments[-1]["mark"] and match.start() == position:
            # Adjacent matches make one mark: two <mark>s side by side read as a gap between words.
            segments[-1] = {"text": str(segments[-1]["text"]) + match.group(0), "mark": True}
        else:
            segments.append({"text": match.group(0), "mark": True})
        position = match.end()
    if position < len(text):
        segments.append({"text": text[position:], "mark": False})
    return segments


_HEADING_END = re.compile(r"[。！？!?；;，,、：:…”」』）)]$")


def paragraphs(body: str, terms: Iterable[str]) -> list[dict[str, object]]:
    """The body as paragraphs ``{"kind": "text"|"heading", "segments": [...]}``.

    Short lines without closing punctuation (section heads and photo captions inside long articles)
    are kinds ``heading`` so the page can set them apart.
    """
    term_list = list(terms)
    result: list[dict[str, object]] = []
    marks_left = MAX_MARKS  # for the whole body, not per line
    for line in (body or "").split("\n"):
        line = line.strip()
        if not line:
            continue
        heading = len(line) <= 20 and not _HEADING_END.search(line)
        segments = mark_segments(line, term_list, marks_left)
        marks_left -= sum(1 for segment in segments if segment["mark"])
        result.append({"kind": "heading" if heading else "text", "segments": segments})
    return result


_SNIPPET_TOKEN = re.compile(r"<mark>|</mark>|&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});|[<>&]")


def safe_snippet(snippet: str | None) -> Markup:
    """The engine's snippet as Markup, allowing nothing but ``<mark>``/``</mark>`` and entities.

    The engine already escapes page text; this is defence in depth: any other ``<``, ``>`` or bare
    ``&`` is escaped, so an engine bug cannot put markup into the page. Idempotent on a safe snippet.

    >>> str(safe_snippet("a &lt;b&gt; <mark>小微</mark><script>x</script>"))
    'a &lt;b&gt; <mark>小微</mark>&lt;script&gt;x&lt;/script&gt;'
    """
    text = snippet or ""
    out: list[str] = []
    position = 0
    open_marks = 0
    for match in _SNIPPET_TOKEN.finditer(text):
        out.append(text[position : match.start()])
        token = match.group(0)
        if token == "<mark>":
            open_marks += 1
            out.append(token)
        elif token == "</mark>":
            if open_marks:
                open_marks -= 1
                out.append(token)
        elif token.startswith("&") and len(token) > 1:
            out.append(token)
        else:
            out.append(str(escape(token)))
        position = match.end()
    out.append(text[position:])
    out.append("</mark>" * open_marks)
    # Adjacent marks become one: side by side, their padding reads as a space between words.
    return Markup("".join(out).replace("</mark><mark>", ""))


_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def first_sentence(text: str | None, limit: int = 40) -> str:
    """The first sentence (or line) of ``text``, cut to ``limit`` characters: a stand-in headline for
    an article printed without one.

    >>> first_sentence("本报讯 高新区举行签约仪式。五个项目落地。")
    '本报讯 高新区举行签约仪式'
    """
    text = (text or "").strip()
    match = _SENTENCE_END.search(text)
    sentence = text[: match.start()] if match else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
