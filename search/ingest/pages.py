"""Read and decode a seed page, then undo the layout of scans: column wrapping and mid-sentence breaks.

Decoding order (README, "Seed files"): byte-order mark, then strict UTF-8, then GB18030. A file that is mostly
UTF-8 with a few bad bytes keeps its UTF-8 reading and reports where the bad bytes were, instead of
being misread as GB18030 mojibake. Nothing here raises on bad input: problems are returned as text.

The second job is turning raw lines into paragraphs (:func:`paragraphs`):

* a *column-wrapped* page (scans: 10–14 characters a line) has its lines joined back into paragraphs,
  without spaces between CJK characters, also across blank lines that fall mid-sentence where a column
  broke;
* on an unwrapped page each line is a paragraph, except that a long paragraph cut mid-sentence by a
  blank line is joined to what follows.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

import rjieba

from search.ingest.bylines import is_byline_line, is_opener, split_trailing_byline
from search.ingest.chinese import to_simplified
from search.ingest.credits import parse_credit
from search.ingest.furniture import is_furniture

# Characters that end a sentence (a line ending in one of them may end a paragraph).
SENTENCE_END = "。！？!?；;…」』”’）)】》"
# Punctuation that only occurs in running text (its absence marks headline-like lines).
CLAUSE_PUNCT = "，,。；;！!？?：:"
# A page file (.txt, .md) is decoded and cut in memory: one larger than this is refused by name, never
# cut short (stated in the README). A newspaper page is tens of kilobytes; .jsonl exports have no limit.
MAX_PAGE_BYTES = 64 * 1024 * 1024


@dataclass
class Page:
    """A decoded seed page: its text with normalised newlines, and what went wrong reading it."""

    source: str
    text: str
    encoding: str
    problems: list[str] = field(default_factory=list)
    binary_share: float = 0.0  # share of control/replacement characters as decoded: high for binary files


@dataclass
class Paragraph:
    """A paragraph of a page after unwrapping, with the layout facts extraction needs."""

    text: str
    heading_level: int = 0  # 1 for a markdown `#` line, 2 for `##`, 0 otherwise
    gap_before: int = 0  # blank lines before it on the page
    wrapped: bool = False  # joined from several column lines
    last_line: str = ""  # the last physical line joined into it
    emphasis: bool = False  # a whole line in markdown bold (**小标题**): a marked head, never joined


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _bad_spans(data: bytes, encoding: str, limit: int = 20) -> list[tuple[int, int]]:
    """The first ``limit`` byte spans that do not decode in ``encoding`` (merged when adjacent)."""
    spans: list[tuple[int, int]] = []
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    position = 0
    while position < len(data) and len(spans) < limit:
        try:
            decoder.decode(data[position:], final=True)
            break
        except UnicodeDecodeError as error:
            start, end = position + error.start, position + error.end
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
            position = end
            decoder.reset()
    return spans


def _describe_spans(spans: list[tuple[int, int]], encoding: str) -> str:
    where = ", ".join(f"byte {start}" + (f"-{end - 1}" if end - start > 1 else "") for start, end in spans[:5])
    more = " and more" if len(spans) > 5 else ""
    return f"undecodable {encoding} bytes at {where}{more}; replaced with U+FFFD, the rest kept"


def _looks_like_utf16(data: bytes) -> str | None:
    """Guess BOM-less UTF-16 from the share of NUL bytes at even or odd offsets."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even_nuls = sample[0::2].count(0) / (len(sample) / 2)
    odd_nuls = sample[1::2].count(0) / (len(sample) / 2)
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


_ESCAPED = re.compile("[\udc80-\udcff]")  # undecodable bytes, as decoded with errors="surrogateescape"
# A run of undecodable bytes with at most 16 readable characters between any two of them.
_DAMAGE = re.compile("[\udc80-\udcff](?:[^\udc80-\udcff]{0,16}[\udc80-\udcff])*")
MIN_DAMAGED_BLOCK = 16  # undecodable bytes in one run that make it a damaged block, cut out whole


def _mostly_utf8(data: bytes) -> bool:
    """Is ``data`` UTF-8 with damage, rather than another encoding (GBK) read as UTF-8?

    Valid multi-byte UTF-8 sequences are rare by chance: GBK text read as UTF-8 gives about one valid
    multi-byte byte for every two invalid ones, random bytes far fewer. A UTF-8 page with a few bad
    bytes, or with a corrupted block in the middle, has many times more valid ones.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad <= max(8, len(data) // 200):
        return True
    # bytes of valid multi-byte characters = all bytes - ASCII bytes - the U+FFFDs' three bytes each
    valid = len(text.encode("utf-8")) - len(text.encode("ascii", "ignore")) - 3 * bad
    return valid >= 1.5 * bad


def _stray(ch: str) -> bool:
    """A character next to a damaged block that is probably part of it: not a line break, not CJK."""
    return ch != "\n" and ch < "\u3000"


def _salvage_utf8(data: bytes) -> tuple[str, list[str]]:
    """Decode damaged UTF-8: isolated bad bytes become U+FFFD; a damaged block (16 or more bad bytes
    close together, with the stray bytes between them) is cut out and replaced by a paragraph break,
    so junk never reaches the index while the text before and after it does. Offsets are reported."""
    text = data.decode("utf-8", errors="surrogateescape")
    out: list[str] = []
    replaced: list[tuple[int, int]] = []
    dropped: list[tuple[int, int]] = []
    position, byte_position = 0, 0
    for match in _DAMAGE.finditer(text):
        start, end = match.start(), match.end()
        block = len(_ESCAPED.findall(match.group())) >= MIN_DAMAGED_BLOCK
        if block:
            # Random bytes that happen to be valid (mostly ASCII) stick to the block's edges: take up
            # to 16 non-CJK characters on either side with it, never crossing a line break.
            while start > position and match.start() - start < 16 and _stray(text[start - 1]):
                start -= 1
            while end < len(text) and end - match.end() < 16 and _stray(text[end]):
                end += 1
        before = text[position:start]
        out.append(before)
        byte_position += len(before.encode("utf-8", "surrogateescape"))
        run = text[start:end]
        size = len(run.encode("utf-8", "surrogateescape"))
        if block:
            out.append("\n\n")
            dropped.append((byte_position, byte_position + size))
        else:
            out.append(_ESCAPED.sub("\ufffd", run))
            replaced.append((byte_position, byte_position + size))
        byte_position += size
        position = end
    out.append(text[position:])
    problems = []
    if replaced:
        problems.append(_describe_spans(replaced, "utf-8"))
    for start, end in dropped[:5]:
        problems.append(
            f"damaged block of {end - start} bytes (not utf-8) at byte {start}-{end - 1} cut out; "
            f"text salvaged before byte {start} and from byte {end}"
        )
    if len(dropped) > 5:
        problems.append(f"{len(dropped) - 5} more damaged blocks cut out")
    return "".join(out), problems


def decode_bytes(data: bytes) -> tuple[str, str, list[str]]:
    """Decode a seed file's bytes; return ``(text, encoding, problems)``. Never raises.

    >>> decode_bytes("本报讯".encode("gb18030"))[:2]
    ('本报讯', 'gb18030')
    """
    problems: list[str] = []
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            spans = _bad_spans(body, encoding)
            if spans:
                problems.append(_describe_spans([(s + len(bom), e + len(bom)) for s, e in spans], encoding))
            return body.decode(encoding, errors="replace"), encoding, problems
    utf16 = _looks_like_utf16(data)
    if utf16:
        spans = _bad_spans(data, utf16)
        if spans:
            problems.append(_describe_spans(spans, utf16))
        return data.decode(utf16, errors="replace"), utf16, problems
    try:
        return data.decode("utf-8"), "utf-8", problems
    except UnicodeDecodeError:
        pass
    # A UTF-8 page with damaged bytes (a few, or a whole corrupted block): keep the UTF-8 reading.
    if _mostly_utf8(data):
        text, salvage_problems = _salvage_utf8(data)
        return text, "utf-8", problems + salvage_problems
    gb_spans = _bad_spans(data, "gb18030")
    if gb_spans:
        problems.append(_describe_spans(gb_spans, "gb18030"))
    return data.decode("gb18030", errors="replace"), "gb18030", problems


# C0 controls but tab and newline, DEL, C1 controls (terminal escapes such as ESC and CSI) and the
# bidirectional overrides that can make text display in another order than it is stored.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LONG_LINE_CHARS = 100_000


def normalise_newlines(text: str) -> str:
    """CRLF and CR to LF; drop NULs and other control characters except tab and newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return CONTROL_CHARS.sub("", text)


def long_line_problem(text: str) -> str | None:
    """A line of more than LONG_LINE_CHARS characters (a conversion that lost its line breaks)."""
    if len(text) <= LONG_LINE_CHARS:
        return None
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > LONG_LINE_CHARS:
            return f"line {number} is {len(line):,} characters long without a line break; indexed as one paragraph"
    return None


def binary_share(text: str) -> float:
    """Share of characters that are replacement characters or unprintable (a binary file scores high)."""
    if not text:
        return 0.0
    sample = text[:20000]
    bad = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\t\r\f"))
    return bad / len(sample)


def page_from_bytes(source: str, data: bytes) -> Page:
    """Decode a seed file's bytes into a :class:`Page`; undecodable bytes are reported, never fatal."""
    text, encoding, problems = decode_bytes(data)
    share = binary_share(text)  # before normalising, which drops control characters
    text = normalise_newlines(text).lstrip("\ufeff")
    return Page(source=source, text=text, encoding=encoding, problems=problems, binary_share=share)


def read_page(path: Path) -> Page:
    """Read one seed file into a :class:`Page` (see :func:`page_from_bytes`)."""
    return page_from_bytes(path.name, Path(path).read_bytes())


# --- layout: lines -> paragraphs ------------------------------------------------------------------

_MD_HEADING = re.compile(r"#{1,6}")  # a markdown heading's marks (their text is cut in _md_heading)
_MD_BOLD_LINE = re.compile(r"^\*\*\s*([^*]{1,60}?)\s*\*\*$")
# Stray spaces between digits and CJK characters ("11 月 22 日", "总投资额为 17.4 亿元") are scan noise.
_DIGIT_SPACE = re.compile(r"(?<=[\u3400-\u9fff])[ \u3000\t]+(?=\d)|(?<=\d)[ \u3000\t]+(?=[\u3400-\u9fff])")
_ROLE_AT_END = re.compile(r"(?:记者|通讯员|实习生)\s*$")
_SPACES = re.compile(r"[ \u3000\t\u00a0]+")


def _md_heading(line: str) -> tuple[int, str] | None:
    """``(level, text)`` of a markdown heading line (``## 标题 ##`` -> ``(2, "标题")``), else None.

    String methods instead of one regex: ``^(#{1,6})\\s*(.*?)\\s*#*$`` retried its lazy group at every
    character of a long run of spaces, which made a long heading line quadratic.

    >>> _md_heading("## 开门红 ##"), _md_heading("正文")
    ((2, '开门红'), None)
    """
    marks = _MD_HEADING.match(line)
    if marks is None:
        return None
    text = line[marks.end():].lstrip().rstrip("#").rstrip()
    return len(marks.group()), text


def display_width(text: str) -> int:
    """Terminal/print width: wide and full-width characters count 2 (ambiguous ones too, as in CJK print)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def clean_line(line: str) -> str:
    """Strip a line, including full-width spaces."""
    return line.strip(" \t\u3000\u00a0\ufeff")


# An HTML entity written out in the text (``R&amp;D``, ``&lt;b&gt;``): its semicolon is not punctuation.
_ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")


def without_entities(text: str) -> str:
    """``text`` with HTML entities written out in it (``R&amp;D``) removed, for judging punctuation."""
    return _ENTITY.sub("", text) if "&" in text else text


def clause_marks(text: str) -> int:
    """How many clause punctuation marks ``text`` holds (not counting the ``;`` of HTML entities)."""
    text = without_entities(text)
    return sum(text.count(ch) for ch in CLAUSE_PUNCT)


def is_headline_like(text: str) -> bool:
    """A line without clause punctuation: a headline, kicker, section head or caption title."""
    return clause_marks(text) == 0


def _is_wrapped_page(blocks: list[list[str]]) -> bool:
    """Is the page column-wrapped (scans: most text in blocks of several short lines)?"""
    widths = [display_width(line) for block in blocks if len(block) >= 3 for line in block[:-1]]
    all_lines = [line for block in blocks for line in block]
    if len(widths) < 8 or len(all_lines) < 10:
        return False
    typical = median(widths)
    if typical > 44:  # lines of more than ~22 CJK characters: not a narrow column
        return False
    return sum(1 for line in all_lines if display_width(line) > typical * 3) / len(all_lines) <= 0.2


def _local_columns(lines: list[str], radius: int = 8) -> list[float]:
    """Column width around each line: columns differ between articles of one page, so each line is
    judged against its neighbours (upper quartile of their widths, ignoring much wider headlines)."""
    widths = [display_width(line) for line in lines]
    columns: list[float] = []
    for index in range(len(lines)):
        window = widths[max(0, index - radius): index + radius + 1]
        typical = median(window)
        usable = sorted(w for w in window if w <= typical * 1.6)
        columns.append(usable[int(len(usable) * 0.75)] if usable else typical)
    return columns


# Closing punctuation a typesetter hangs past the column's edge rather than start a line with it (避头).
_HANGING = "，。、；：？！”’）》」』】〕…—·,.;:?!)%"


def _is_full(line: str, column: float) -> bool:
    """A line that reaches (about) the column's edge, so the text runs on to the next line."""
    width = display_width(line)
    # First lines of paragraphs are indented and punctuation varies in width: allow ~3 characters;
    # punctuation hung past the edge (……产品———) does not count against the column.
    return column - 7 <= width and display_width(line.rstrip(_HANGING)) <= column + 3


# Marks that begin a unit of their own: bold, bracketed heads (【简讯】, 【标题】正文), bullets (■), an
# editor's note, a subtitle's dash.
_UNIT_MARK = re.compile(r"^(?:\*\*|【|[■□●◆▲★☆◎⊙]|编者按|编者的话|——)")


def _starts_new_unit(line: str) -> bool:
    """Lines that always begin a paragraph: openers, bylines, list items, markdown headings, marked
    heads and page furniture (headers, editor lines, page numbers)."""
    return bool(
        line.startswith("#")
        or _UNIT_MARK.match(line)
        or is_opener(line)
        or is_byline_line(line)
        or re.match(r"^\d{1,2}[.、．](?!\d)", line)
        or is_furniture(line)
        or parse_credit(line) is not None
    )


def _lines_to_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Group lines into blocks separated by blank lines; return (blank lines before, lines)."""
    blocks: list[tuple[int, list[str]]] = []
    gap = 0
    current: list[str] = []
    for raw in text.split("\n"):
        line = clean_line(raw)
        if not line:
            if current:
                blocks.append((gap, current))
                current, gap = [], 0
            gap += 1
            continue
        current.append(line)
    if current:
        blocks.append((gap, current))
    return blocks


def paragraphs(text: str) -> list[Paragraph]:
    """Turn page text into paragraphs, undoing column wrapping and mid-sentence breaks."""
    blocks = _lines_to_blocks(text)
    wrapped_page = _is_wrapped_page([lines for _, lines in blocks])
    flat = [line for _, lines in blocks for line in lines]
    columns = _local_columns(flat) if wrapped_page else [0.0] * len(flat)
    result: list[Paragraph] = []
    line_index = -1
    previous_column: float | None = None
    # Between articles (page start, after a byline) stand headline blocks, whose lines are never joined.
    between_articles = True
    for block_index, (gap, lines) in enumerate(blocks):
        first = True
        block_has_text = any(not is_headline_like(line) for line in lines)
        headline_block = not block_has_text and _is_headline_block(lines, blocks[block_index + 1][1] if block_index + 1 < len(blocks) else [])
        for line in lines:
            line_index += 1
            column = previous_column
            previous_column = columns[line_index] if wrapped_page else None
            heading = _md_heading(line)
            if heading is not None:
                result.append(Paragraph(text=heading[1], heading_level=heading[0], gap_before=gap if first else 0))
                first = False
                continue
            bold = _MD_BOLD_LINE.match(line)
            if bold:
                result.append(Paragraph(text=bold.group(1), gap_before=gap if first else 0, last_line=line, emphasis=True))
                first = False
                continue
            apart = (between_articles or headline_block) and not block_has_text
            if result and _continues(result[-1], line, column, same_block=not first, between_articles=apart):
                previous = result[-1]
                previous.text = _join(previous.text, line)
                previous.wrapped = True
                previous.last_line = line
            else:
                result.append(Paragraph(text=line, gap_before=gap if first else 0, last_line=line))
            if is_byline_line(line):
                # A byline under a headline opens its article: what follows is its text, not headlines.
                under_headline = len(result) >= 2 and is_headline_like(result[-2].text) and not is_byline_line(result[-2].text)
                between_articles = not under_headline
            elif (is_opener(line) or not is_headline_like(line)) and not is_furniture(line):
                between_articles = False
            first = False
    for paragraph in result:
        paragraph.text = _SPACES.sub(" ", _DIGIT_SPACE.sub("", paragraph.text))
    return [p for p in result if p.text]


def _is_headline_block(lines: list[str], next_lines: list[str]) -> bool:
    """Two or three unpunctuated lines standing between blank lines are a headline block (kicker,
    title, subtitle), never one wrapped paragraph, unless the next block runs on from the last of
    them in the middle of a word (a headline hard-wrapped across a column break)."""
    if not 2 <= len(lines) <= 3 or any(is_opener(line) or is_byline_line(line) for line in lines):
        return False
    if any(line[-1] in _OPENING or line.count("“") != line.count("”") or _unclosed_bracket(line) for line in lines):
        return False  # a line that leaves a quote or bracket open runs on: text, not a headline
    if next_lines and (_word_spans_break(lines[-1], next_lines[0]) or next_lines[0][0] in _RUNS_ON):
        return False
    return True


def _join(left: str, right: str) -> str:
    """Join two pieces of a wrapped line: no space between CJK, one space between Latin words."""
    if left and right and left[-1].isascii() and right[0].isascii() and left[-1].isalnum() and right[0].isalnum():
        return left + " " + right
    return left + right


def _continues(previous: Paragraph, line: str, column: float | None, same_block: bool, between_articles: bool = False) -> bool:
    """Does ``line`` continue ``previous`` (a wrapped line, or a sentence cut by a blank line)?"""
    if previous.heading_level or previous.emphasis:
        return False
    if column is not None and same_block and _cut_inside(previous, line, column):
        return True  # "……。图/本" + "报记者 陈明", "（实习生 赵丽" + "记者 王鸿）": the column broke a unit
    if _starts_new_unit(line):
        return False
    if is_opener(previous.text) and _unclosed_bracket(previous.text):
        return True  # "本报讯(记者 郭涛" / "通讯员 李晓娟)近日…": the bracketed byline goes on
    if is_byline_line(previous.text):
        # A byline wrapped after a role word ("记者 孙庆辉 通讯员" / "马云静") goes on; others end here.
        return bool(_ROLE_AT_END.search(to_simplified(previous.text)))
    last_line_end = previous.text[-1]
    if column is not None:
        # Column-wrapped page: the previous paragraph's last physical line must have been full.
        tail = previous.last_line or previous.text
        quote_mid_sentence = previous.wrapped and last_line_end in "”’」』" and previous.text[-2:-1] not in "。！？!?…"
        if last_line_end in SENTENCE_END and not same_block and not quote_mid_sentence:
            return False
        if not _is_full(tail, column):
            # A short line ends its paragraph, unless it stops inside a word (出|征) or before a number
            # the column could not break (…收市跌 / 0.56%。).
            if last_line_end in SENTENCE_END:
                return False
            if last_line_end in "，,、" and same_block:
                return True  # a line that stops at a comma stops mid-sentence
            return _word_spans_break(previous.text, line) or (same_block and _run_did_not_fit(tail, line, column))
        if same_block:
            return not (between_articles and is_headline_like(previous.text) and is_headline_like(line))
        # Across a blank line: running text cut mid-sentence, not a lone headline line (which has
        # no clause punctuation, often two phrases split by a space, and is followed by another).
        if previous.wrapped or not is_headline_like(previous.text):
            return True
        # A lone unpunctuated line before a blank: text cut mid-sentence only if the cut splits a word
        # or the next line runs on (的, 和…); a headline or a caption's title is followed by a new start.
        runs_on = _word_spans_break(previous.text, line) or line[:1] in _RUNS_ON
        return " " not in previous.text and any(ch in CLAUSE_PUNCT + "、" for ch in line) and runs_on
    if same_block:
        return False
    # Unwrapped page: a long paragraph cut mid-sentence by a blank line continues.
    if last_line_end in SENTENCE_END or split_trailing_byline(previous.text):
        return False  # a finished sentence, or "…扶到位。记者 孙庆辉 文/图": a byline ends the article
    # A word cut in two by the break (强|调, 聚|焦) is the surest sign; otherwise only long running text.
    word_cut = _word_spans_break(previous.text, line)
    if not word_cut and (is_headline_like(previous.text) or len(previous.text) < 60):
        return False
    if len(line) < 20 and is_headline_like(line):
        return False  # a caption or section head follows the broken paragraph
    return True


_OPENING = set("“‘（(《「『【〔")
_RUNS_ON = set("的了着和与及并或而且是在为对从向把被给等地得之、，,。；;：:）)”’")


def _cut_inside(previous: Paragraph, line: str, column: float) -> bool:
    """Did a full column line break inside a word or a bracket that the next line finishes?"""
    tail = previous.last_line or previous.text
    if not _is_full(tail, column) or tail[-1:] in SENTENCE_END:
        return False
    if _unclosed_bracket(tail) and re.search(r"[）)]", line[:24]):
        return True
    if _ROLE_AT_END.search(to_simplified(tail)) and is_byline_line(line):
        return True  # "……风范。新华社记者" + "刘冰 摄": a credit broken after its role word
    return _word_spans_break(tail, line) and not line.startswith(("#", "**", "【"))


def _run_did_not_fit(tail: str, line: str, column: float) -> bool:
    """Does ``line`` open with a number or Latin word that did not fit at the end of ``tail``
    (``……收市跌`` / ``0.56%。``): a column that cannot break inside a number ends its line early."""
    run = re.match(r"[A-Za-z0-9.%％‰]+", line)
    return bool(run) and not tail[-1:].isascii() and display_width(tail) + display_width(run.group(0)) > column


def _word_spans_break(left: str, right: str) -> bool:
    """Does the segmenter put one word across the break (``聚`` + ``焦企业`` -> 聚焦)?"""
    window_left, window_right = to_simplified(left[-4:]), to_simplified(right[:4])
    boundary = len(window_left)
    return any(start < boundary < end for _, start, end in rjieba.tokenize(window_left + window_right))


def _unclosed_bracket(text: str) -> bool:
    """Is a round bracket opened and not closed (an opener's byline cut by the line end)?"""
    return text.count("(") + text.count("（") > text.count(")") + text.count("）")
