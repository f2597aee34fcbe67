"""Cut a page into articles: openers, bylines, headlines before or after the body, photo captions.

The page is first turned into paragraphs (:mod:`search.ingest.pages`); each paragraph is then one of

* a markdown heading (``#`` starts an article, ``##`` is a section inside one);
* an *opener* (``本报讯…``), which starts a news article, with its bracketed byline;
* a *byline* (``记者 孙庆辉 通讯员 冯亚旭 文/图``), which ends an article; some paragraphs end with one;
* a *short line* without closing punctuation: a headline line, a section head or a caption title;
* running text.

Short lines are held back until the next paragraph shows what they are: running text after them means
section heads of the open article (or the headline of an article without opener); an opener or a
heading after them means headline lines, which may belong to the *previous* article (headline placed
after its body) or the next one; whatever remains at the end of the page is a block of headlines for
the articles that have none, in article order. Which headline goes with which article is decided by
how much of each line's wording the article's text contains, so no rule depends on one page's layout.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from search.ingest.chinese import to_simplified
from search.ingest.bylines import Byline, parse_byline, split_opener, split_trailing_byline
from search.model import Article
from search.ingest.pages import Page, Paragraph, clause_marks, paragraphs, without_entities

MAX_HEADLINE_LINES = 3
MAX_HEADLINE_CHARS = 48
_TERMINAL = "。！？!?；;：:…"
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


@dataclass
class Draft:
    """An article being assembled from paragraphs."""

    headline: list[str] = field(default_factory=list)
    heading_title: str | None = None  # a markdown `#` title, which is the title whatever else comes
    body: list[str] = field(default_factory=list)
    byline: Byline = field(default_factory=Byline)
    opener: bool = False
    closed: bool = False  # a byline ended it
    closing_byline: str = ""  # the text of the byline line(s) that ended it
    sections: list[str] = field(default_factory=list)  # short lines inside the body (section heads)
    page_section: str | None = None  # a page-section label (【要闻】) printed above it
    photo_credit: bool = False  # ended by a photographer's credit alone

    @property
    def has_headline(self) -> bool:
        return bool(self.headline or self.heading_title)

    @property
    def is_photo(self) -> bool:
        """Photo news: a short caption closed by ``本报记者 X 摄``, with no opener and no headline."""
        return self.photo_credit and not self.opener and not self.has_headline and len(self.body) <= 2

    def text(self) -> str:
        return "\n".join(self.body)


def is_short_line(text: str) -> bool:
    """A headline-like line: short, not ending a sentence, at most one clause mark, no long numbers."""
    text = without_entities(text)  # "R&amp;D" written out in a headline: its ";" ends nothing
    if not 2 <= len(text) <= MAX_HEADLINE_CHARS or text[-1] in _TERMINAL:
        return False
    if re.search(r"\d{7,}", text) or re.match(r"^\d{1,2}[.、．]", text) or re.search(r"[。！？!?]", text):
        return False  # phone numbers, list items and finished sentences are running text
    return clause_marks(text) <= 1 and bool(_CJK_RUN.search(text))


def _bigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for run in _CJK_RUN.findall(text):
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def headline_affinity(line: str, body: str) -> float:
    """Share of the line's character bigrams that occur in the body: how well a headline fits an article."""
    grams = _bigrams(line)
    if not grams:
        return 0.0
    body_grams = _bigrams(body)
    return sum(1 for gram in grams if gram in body_grams) / len(grams)


def _split_between(lines: list[str], previous: Draft | None, following_text: str) -> int:
    """How many of ``lines`` (standing between two articles) belong to the previous one.

    The previous article can take a headline placed after its body only when it has none.
    """
    if previous is None or previous.has_headline or previous.is_photo or previous.photo_credit:
        return 0
    previous_text = previous.text()
    best_split, best_score = 0, float("-inf")
    for split in range(0, min(len(lines), MAX_HEADLINE_LINES) + 1):
        if len(lines) - split > MAX_HEADLINE_LINES:
            continue
        score = sum(headline_affinity(line, previous_text) for line in lines[:split])
        score += sum(headline_affinity(line, following_text) for line in lines[split:])
        if score > best_score + 1e-9:  # ties keep the smaller split: headlines usually come first
            best_split, best_score = split, score
    return best_split


def _assign_end_block(lines: list[str], drafts: list[Draft]) -> dict[int, list[str]]:
    """Give a block of headlines at the end of the page to the articles without one, in order.

    Dynamic programming over (line, article) keeps the order and gives each article 0–3 consecutive
    lines, maximising how well each line fits its article's text.
    """
    targets = [i for i, draft in enumerate(drafts) if not draft.has_headline and not draft.is_photo]
    if not targets or not lines:
        return {}
    texts = [drafts[i].text() for i in targets]
    fit = [[headline_affinity(line, text) for text in texts] for line in lines]
    n, m = len(lines), len(targets)
    NEG = float("-inf")
    best = [[NEG] * (m + 1) for _ in range(n + 1)]
    choice: dict[tuple[int, int], int] = {}
    best[0][0] = 0.0
    for j in range(1, m + 1):
        for i in range(0, n + 1):
            for take in range(0, min(MAX_HEADLINE_LINES, i) + 1):
                prior = best[i - take][j - 1]
                if prior == NEG:
                    continue
                score = prior + sum(fit[k][j - 1] for k in range(i - take, i))
                if score > best[i][j] + 1e-9:
                    best[i][j], choice[(i, j)] = score, take
    if best[n][m] == NEG:
        return {}
    assigned: dict[int, list[str]] = {}
    i = n
    for j in range(m, 0, -1):
        take = choice[(i, j)]
        if take:
            assigned[targets[j - 1]] = lines[i - take : i]
        i -= take
    return assigned


class _Cutter:
    """The state machine that walks a page's paragraphs and produces drafts."""

    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.pending: list[str] = []  # short lines whose role is not known yet
        self.page_section: str | None = None

    @property
    def current(self) -> Draft | None:
        return self.drafts[-1] if self.drafts else None

    def _open(self) -> Draft | None:
        current = self.current
        return current if current is not None and not current.closed else None

    def _start(self, headline_lines: list[str]) -> Draft:
        draft = Draft(headline=list(headline_lines), page_section=self.page_section)
        self.drafts.append(draft)
        return draft

    def _place_pending_before_start(self, following_text: str) -> list[str]:
        """Pending lines before a new article: split between the previous article and the new one."""
        lines, self.pending = self.pending, []
        split = _split_between(lines, self.current, following_text)
        if split:
            assert self.current is not None
            self.current.headline = lines[:split]
        return lines[split:]

    def _flush_pending_into_body(self, draft: Draft) -> None:
        draft.body.extend(self.pending)
        draft.sections.extend(self.pending)
        self.pending = []

    def opener(self, paragraph: Paragraph, lookahead: str) -> None:
        parts = split_opener(paragraph.text)
        assert parts is not None
        _, byline, rest = parts
        open_draft = self._open()
        if open_draft is not None and not open_draft.body and not open_draft.opener and not self.pending:
            draft = open_draft  # a `#` title (or headline) waiting for its opener
        else:
            headline = self._place_pending_before_start(rest + lookahead)
            if open_draft is not None:
                open_draft.closed = True
            draft = self._start(headline)
        draft.opener = True
        if byline:
            draft.byline.merge(byline)
        self._add_text(draft, rest)

    def heading(self, paragraph: Paragraph, lookahead: str) -> None:
        if paragraph.heading_level >= 2:
            open_draft = self._open()
            if open_draft is not None:
                self._flush_pending_into_body(open_draft)
                open_draft.body.append(paragraph.text)
            else:
                self.pending.append(paragraph.text)
            return
        headline = self._place_pending_before_start(paragraph.text + lookahead)
        if self._open() is not None:
            self._open().closed = True  # type: ignore[union-attr]
        draft = self._start(headline[-(MAX_HEADLINE_LINES - 1):] if headline else [])
        draft.heading_title = paragraph.text

    def byline(self, byline: Byline, text: str) -> None:
        open_draft = self._open()
        if open_draft is None and self.current is not None and self.current.closing_byline and not self.pending:
            # A byline continued on the next line reads as one: "记者 X" + "通讯员 Y 文图".
            current = self.current
            current.closing_byline = f"{current.closing_byline} {text}".strip()
            current.byline.merge(parse_byline(current.closing_byline) or byline)
            return
        if open_draft is None or (self.pending and byline.photo_only):
            # Short lines closed by a credit: a caption standing on its own.
            draft = self._start([])
            self._flush_pending_into_body(draft)
            open_draft = draft
        else:
            self._flush_pending_into_body(open_draft)
        if byline.photo_only and open_draft.opener and len(open_draft.body) >= 2:
            # A photographer's credit after a news article closes a photo caption placed after it.
            caption = open_draft.body.pop()
            open_draft.closed = True
            open_draft = self._start([])
            open_draft.body.append(caption)
        open_draft.byline.merge(byline)
        open_draft.photo_credit = byline.photo_only
        open_draft.closing_byline = text
        open_draft.closed = True

    def text(self, text: str, lookahead: str) -> None:
        open_draft = self._open()
        if open_draft is None:
            headline = self._place_pending_before_start(text + lookahead)
            open_draft = self._start(headline)
        else:
            self._flush_pending_into_body(open_draft)
        self._add_text(open_draft, text)

    def _add_text(self, draft: Draft, text: str) -> None:
        trailing = split_trailing_byline(text)
        if trailing:
            trailing_text = text[len(trailing[0]):].strip()
            text, byline = trailing
            if text:
                draft.body.append(text)
            draft.byline.merge(byline)
            draft.photo_credit = byline.photo_only
            draft.closing_byline = trailing_text
            draft.closed = True
        elif text:
            draft.body.append(text)

    def finish(self) -> list[Draft]:
        if self.pending:
            assigned = _assign_end_block(self.pending, self.drafts)
            if assigned:
                for index, lines in assigned.items():
                    self.drafts[index].headline = lines
            elif self.current is not None:
                self.current.body.extend(self.pending)
            else:
                self._start([]).body.extend(self.pending)
            self.pending = []
        drafts = [draft for draft in self.drafts if draft.body or draft.heading_title]
        for draft in drafts:
            _return_section_head_from_headline(draft)
        return drafts


def _return_section_head_from_headline(draft: Draft) -> None:
    """A first section head taken for a subtitle goes back to the body.

    Without markdown marks, ``title / first section head / text`` looks like a two-line headline.
    When the article's section heads share a shape (two phrases split by a space, as in
    ``沟赵办事处 以“保姆式”服务…``) and the last headline line has that shape too, it is a section head.
    """
    if len(draft.headline) < 2 or draft.heading_title or draft.opener:
        return
    spaced = [line for line in draft.sections if " " in line.strip()]
    if len(spaced) >= 3 and " " in draft.headline[-1].strip():
        draft.body.insert(0, draft.headline.pop())


_SECTION_LABEL = re.compile(r"^[【\[［〖]\s*([^】\]］〗]{1,12}?)\s*[】\]］〗]$")


def cut_page(page: Page) -> list[Draft]:
    """Walk the page's paragraphs and cut them into article drafts."""
    paras = paragraphs(page.text)
    cutter = _Cutter()
    for index, paragraph in enumerate(paras):
        lookahead = " ".join(p.text for p in paras[index + 1 : index + 4])
        byline = None if paragraph.heading_level else parse_byline(paragraph.text)
        label = _SECTION_LABEL.match(paragraph.text)
        if label:
            cutter.page_section = label.group(1).strip()
        elif paragraph.heading_level:
            cutter.heading(paragraph, lookahead)
        elif split_opener(paragraph.text) is not None:
            cutter.opener(paragraph, lookahead)
        elif byline is not None:
            cutter.byline(byline, paragraph.text)
        elif is_short_line(paragraph.text):
            cutter.pending.append(paragraph.text)
        else:
            cutter.text(paragraph.text, lookahead)
    return cutter.finish()


# --- headline roles ---------------------------------------------------------------------------------

_SUBJECT = re.compile(r"[\u3400-\u9fff]{1,8}?(?:区|市|县|镇|乡|村|街道|局|委|公司|集团|中心|大学|学院|医院|办事处)")


def headline_roles(lines: list[str], heading_title: str | None = None) -> tuple[str, str, str]:
    """Return (kicker, title, subtitle) for up to three headline lines.

    One line is the title; three are kicker, title, subtitle. Of two lines, the one that names a
    subject (a place, an organisation) is the title; when both or neither do, a first line made of
    parallel phrases split by spaces (``砥砺前行 荣光有我``) is a kicker, otherwise the first line is the
    title and the second its subtitle. A markdown ``#`` line is always the title.
    """
    lines = [line.strip() for line in lines if line.strip()]
    if heading_title is not None:
        kicker = " ".join(lines[-1:]) if lines else ""
        return kicker, heading_title, ""
    if not lines:
        return "", "", ""
    if len(lines) == 1:
        return "", lines[0], ""
    if len(lines) >= 3:
        return lines[-3], lines[-2], lines[-1]
    first, second = lines
    first_subject = bool(_SUBJECT.search(to_simplified(first)))
    second_subject = bool(_SUBJECT.search(to_simplified(second)))
    if second_subject and not first_subject:
        return first, second, ""
    if first_subject == second_subject and " " in first and " " not in second:
        return first, second, ""
    return "", first, second


# --- drafts -> articles ----------------------------------------------------------------------------

# Where a sentence ends: its closing marks and a closing quote. Searched for on its own (not as
# "text, then an end"), so a paragraph without any end is scanned once, not once per character.
_SENTENCE_END = re.compile(r"[。！？!?]+[”’」』]?")


def lead_of(body: str, minimum: int = 40) -> str:
    """The first sentence(s) of the body: at least ``minimum`` characters when the text allows.

    Linear in the paragraph's length (a megabyte-long line without punctuation included).

    >>> lead_of("第一句。第二句！没有结尾", minimum=5)
    '第一句。第二句！'
    """
    first_paragraph = body.split("\n", 1)[0]
    lead_end = 0
    for match in _SENTENCE_END.finditer(first_paragraph):
        lead_end = match.end()
        if lead_end >= minimum:
            break
    return (first_paragraph[:lead_end] or first_paragraph).strip()


def article_id(source: str, position: int, title: str, body: str) -> str:
    """A stable id: the same page content always gives the same ids."""
    digest = hashlib.sha1(f"{source}\n{position}\n{title}\n{body}".encode("utf-8")).hexdigest()
    return digest[:16]


def drafts_to_articles(page: Page, drafts: list[Draft]) -> list[Article]:
    """Turn drafts into Articles (without page-level metadata such as the date)."""
    articles: list[Article] = []
    for position, draft in enumerate(drafts, start=1):
        kicker, title, subtitle = headline_roles(draft.headline, draft.heading_title)
        body = draft.text()
        kind = "news" if draft.opener else "photo" if draft.is_photo else "feature"
        articles.append(
            Article(
                id=article_id(page.source, position, title, body),
                source=page.source,
                position=position,
                title=title,
                kicker=kicker,
                subtitle=subtitle,
                body=body,
                lead=lead_of(body),
                reporters=list(draft.byline.reporters),
                correspondents=list(draft.byline.correspondents),
                photographers=list(draft.byline.photographers),
                kind=kind,
                section=draft.page_section,
                chars=len(body),
            )
        )
    return articles


def extract_articles(page: Page) -> list[Article]:
    """Cut a decoded page into Articles with headline, body, bylines and kind (no metadata yet)."""
    return drafts_to_articles(page, cut_page(page))
