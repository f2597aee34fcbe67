"""Cut a page into articles: openers, bylines, headlines before or after the body, photo captions.

The page is first turned into paragraphs (:mod:`search.ingest.pages`); each paragraph is then one of

* page furniture (:mod:`search.ingest.furniture`): the page header, editor lines, page numbers and
  section banners, which give the page its metadata and belong to no article;
* a markdown heading (``#`` starts an article, ``##`` is a section inside one);
* an *opener* or dateline (``本报讯…``, ``新华社北京6月10日电``, :mod:`search.ingest.datelines`),
  which starts a news article, with its byline and its month and day;
* a *byline* (``记者 孙庆辉 通讯员 冯亚旭 文/图``): under a headline it opens its article, after a
  body it ends one; some paragraphs end with one, or with a reprint credit (``（据新华社）``);
* an editor's note (``【编者按】``, ``编者的话：``), which belongs to the article it introduces;
* an item of a column of short news (简讯, 快讯): each is an article, its ``【…】`` or bold lead its
  headline;
* a *short line* without closing punctuation: a headline line, a section head or a caption title;
* running text.

Short lines are held back until the next paragraph shows what they are: running text after them means
section heads of the open article (or the headline of an article without opener, or of a new article
when the open one took its byline at the top and the lines carry no section mark); an opener, a
byline or a heading after them means headline lines, which may belong to the *previous* article
(headline placed after its body) or the next one; whatever remains at the end of the page is a block
of headlines for the articles that have none, in article order. Which headline goes with which
article is decided by how much of each line's wording the article's text contains, so no rule
depends on one page's layout.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import rjieba

from search.ingest.bylines import Byline, parse_byline, split_trailing_byline, strip_bullets
from search.ingest.chinese import same_length_shadow, to_simplified
from search.ingest.credits import parse_credit, split_trailing_credit
from search.ingest.datelines import Dateline, parse_dateline
from search.ingest.furniture import PageHeader, banner, is_brief_banner, is_editor_line, lone_page, parse_page_header
from search.ingest.metadata import gazetteer
from search.ingest.pages import Page, Paragraph, clause_marks, paragraphs, without_entities
from search.model import Article

MAX_HEADLINE_LINES = 3
MAX_HEADLINE_CHARS = 48
_TERMINAL = "。！？!?；;：:…，,、"
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# An editor's note introducing an article: 【编者按】…, 编者按：…, 编者的话：…
_EDITOR_NOTE = re.compile(r"^[【\[［]?\s*(?:编者按|编者的话|编前语|编前|编者注|编后)\s*[】\]］]?\s*[：:]?")
# A lead printed before an item's text: 【标题】正文…, **标题** 正文…
_ITEM_LEAD = re.compile(r"^(?:【\s*(?P<bracket>[^】]{2,40}?)\s*】|\*\*\s*(?P<bold>[^*]{2,40}?)\s*\*\*)\s*(?P<rest>.+)$", re.S)
# Marks that make a short line a section head inside an article: ■ 小标题, 一、, （一）, 第一, 【…】, 1.
_SECTION_MARK = re.compile(r"^(?:[■□●◆◇▲△★☆◎⊙▶►]|[一二三四五六七八九十]{1,3}[、是]|[（(][一二三四五六七八九十\d]{1,3}[）)]|第[一二三四五六七八九十]{1,3}[、，,\s]|\d{1,2}[、.．]|【)")
# A headline in brackets on a line of its own (【内地新增33例甲型流感】): the brackets are typography.
_BRACKETED_HEAD = re.compile(r"^【\s*([^】]{2,40}?)\s*】$")
_PHOTO_MARK = re.compile(r"[（(]\s*图片新闻\s*[）)]")
_BOLD = re.compile(r"\*\*([^*]{1,200}?)\*\*")
# A caption that points at its article's picture: 图为……, 上图……
_OWN_PICTURE = re.compile(r"^(?:图为|上图|下图|左图|右图|图中)")
# The end mark of wire copy: ……。（完）
_END_MARK = re.compile(r"\s*[（(]\s*完\s*[）)]\s*$")


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
    photo_mark: bool = False  # marked （图片新闻）
    top_byline: bool = False  # its byline stands above its text (so no byline will close it)
    note_only: bool = False  # holds only the editor's note that introduces it, so far
    item: bool = False  # an item of a column of short news
    credit: str | None = None  # the source it was reprinted from
    month: int | None = None  # the month and day of its dateline
    day: int | None = None

    @property
    def has_headline(self) -> bool:
        return bool(self.headline or self.heading_title)

    @property
    def is_photo(self) -> bool:
        """Photo news: a short caption (with or without a title) closed by ``本报记者 X 摄`` or marked
        ``（图片新闻）``, with no opener."""
        return (self.photo_credit or self.photo_mark) and not self.opener and len(self.body) <= 2

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
        self.pending_marked: list[bool] = []  # ... and whether each carries a section head's mark
        self.page_section: str | None = None
        self.header = PageHeader()
        self.in_column = False  # inside a column of short items (after a 简讯 banner)

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

    def _close_open(self) -> None:
        open_draft = self._open()
        if open_draft is not None:
            open_draft.closed = True

    def hold(self, text: str, marked: bool) -> None:
        """Keep a short line until the next paragraph shows what it is."""
        self.pending.append(text)
        self.pending_marked.append(marked)

    def _take_pending(self) -> list[str]:
        lines, self.pending, self.pending_marked = self.pending, [], []
        return lines

    def _place_pending_before_start(self, following_text: str) -> list[str]:
        """Pending lines before a new article: split between the previous article and the new one."""
        lines = self._take_pending()
        if len(lines) >= 2:
            self.in_column = False  # a headline block of its own: a regular article, the column is over
        split = _split_between(lines, self.current, following_text)
        if split:
            assert self.current is not None
            self.current.headline = lines[:split]
        return lines[split:]

    def _flush_pending_into_body(self, draft: Draft) -> None:
        lines = self._take_pending()
        draft.body.extend(lines)
        draft.sections.extend(lines)

    def _waiting_note(self) -> Draft | None:
        """An open article that holds only its editor's note: what follows is its headline and text."""
        open_draft = self._open()
        return open_draft if open_draft is not None and open_draft.note_only else None

    def _new_article_after(self, open_draft: Draft) -> bool:
        """Do the pending lines before running text start a new article rather than head a section?

        An article whose byline stood above its text (``本报记者 X`` under the headline, or in the
        opener's brackets) will not be closed by one, so its end shows only as the next headline: short
        lines without a section head's mark (■, 一、, bold, ##) are that headline.
        """
        if open_draft.heading_title is not None or open_draft.is_photo or not open_draft.body or any(self.pending_marked):
            return False
        if open_draft.top_byline:
            return True
        # A news article opened by a dateline ends at a line that states who did what (商务部否认…): a
        # section head inside a dispatch names a topic (两国关系“积极发展”), not a subject.
        return open_draft.opener and _starts_with_subject(self.pending[-1])

    # -- paragraph kinds ------------------------------------------------------------------------

    def opener(self, dateline: Dateline, lookahead: str, headline: list[str] | None = None) -> None:
        open_draft = self._open()
        note = self._waiting_note()
        if note is not None:
            note.headline = note.headline or self._take_pending()
            note.note_only = False
            draft = note
        elif headline is None and open_draft is not None and not open_draft.body and not open_draft.opener and not self.pending:
            draft = open_draft  # a `#` title (or headline) waiting for its opener
        else:
            lines = self._place_pending_before_start(dateline.rest + lookahead)
            self._close_open()
            draft = self._start(headline if headline is not None else lines)
            if headline is not None and lines:
                draft.body.extend(lines)  # short lines before an item with its own headline: its text
        draft.opener = True
        if dateline.byline is not None:
            draft.byline.merge(dateline.byline)
            draft.top_byline = True
        draft.credit = draft.credit or dateline.source
        draft.month, draft.day = dateline.month, dateline.day
        self._add_text(draft, dateline.rest)

    def heading(self, paragraph: Paragraph, lookahead: str) -> None:
        if paragraph.heading_level >= 2:
            open_draft = self._open()
            if open_draft is not None:
                self._flush_pending_into_body(open_draft)
                open_draft.body.append(paragraph.text)
            else:
                self.hold(paragraph.text, True)
            return
        self.in_column = False
        headline = self._place_pending_before_start(paragraph.text + lookahead)
        self._close_open()
        draft = self._start(headline[-(MAX_HEADLINE_LINES - 1):] if headline else [])
        draft.heading_title = paragraph.text

    def byline(self, byline: Byline, text: str, lookahead: str) -> None:
        open_draft = self._open()
        if not byline.photo_only and (
            self.pending or (open_draft is not None and open_draft.has_headline and not open_draft.body)
        ):
            self._top_byline(byline, lookahead)
            return
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
        if byline.photo_only and len(open_draft.body) >= 2 and not open_draft.is_photo:
            open_draft = self._split_caption(open_draft)
        open_draft.byline.merge(byline)
        open_draft.photo_credit = byline.photo_only
        open_draft.closing_byline = text
        open_draft.closed = True

    def _top_byline(self, byline: Byline, lookahead: str) -> None:
        """A byline under a headline: it opens the article the pending headline lines belong to."""
        note = self._waiting_note()
        open_draft = self._open()
        if note is not None:
            note.headline = note.headline or self._take_pending()
            draft = note
        elif self.pending:
            lines = self._place_pending_before_start(lookahead)
            self._close_open()
            draft = self._start(lines)
        else:
            assert open_draft is not None
            draft = open_draft
        self.in_column = False
        draft.byline.merge(byline)
        draft.top_byline = True

    def _split_caption(self, draft: Draft) -> Draft:
        """A photographer's credit after an article closes the photo caption placed after it (with the
        caption's title line, if one stands before it): the caption becomes an article of its own."""
        titled = len(draft.body) >= 3 and draft.sections and draft.sections[-1] == draft.body[-2]
        if not draft.opener and not titled or _OWN_PICTURE.match(draft.body[-1]):
            return draft  # a feature's last paragraph, or "图为……": the credit is the article's own picture
        caption = draft.body.pop()
        title = [draft.body.pop()] if titled else []
        if title:
            draft.sections.pop()
        draft.closed = True
        photo = self._start(title)
        photo.body.append(caption)
        return photo

    def credit(self, source: str) -> None:
        """A reprint credit on a line of its own closes the article it credits."""
        draft = self._open() or self.current
        if draft is None:
            return
        if self.pending and draft is self._open():
            self._flush_pending_into_body(draft)
        draft.credit = draft.credit or source
        draft.closed = True

    def note(self, text: str, lookahead: str) -> None:
        """An editor's note: the start of the article it introduces."""
        open_draft = self._open()
        if open_draft is not None and open_draft.has_headline and not open_draft.body and not self.pending:
            open_draft.body.append(text)  # after its headline
            return
        lines = self._place_pending_before_start(text + lookahead)
        self._close_open()
        draft = self._start(lines)
        draft.body.append(text)
        draft.note_only = True

    def item(self, headline: list[str], rest: str, lookahead: str) -> None:
        """An item of a column of short news: an article of its own."""
        dateline = parse_dateline(rest)
        if dateline is not None:
            self.opener(dateline, lookahead, headline=headline)
            self.current.item = True  # type: ignore[union-attr]
            return
        lines = self._place_pending_before_start(rest + lookahead)
        self._close_open()
        draft = self._start(headline or lines)
        if headline and lines:
            draft.body.extend(lines)
        draft.item = True
        self._add_text(draft, rest)

    def text(self, text: str, lookahead: str) -> None:
        note = self._waiting_note()
        if note is not None:
            note.headline = note.headline or self._take_pending()
            note.note_only = False
            self._flush_pending_into_body(note)
            self._add_text(note, text)
            return
        open_draft = self._open()
        if open_draft is None or (self.pending and self._new_article_after(open_draft)):
            headline = self._place_pending_before_start(text + lookahead)
            self._close_open()
            open_draft = self._start(headline)
        else:
            self._flush_pending_into_body(open_draft)
        self._add_text(open_draft, text)

    def _add_text(self, draft: Draft, text: str) -> None:
        text = _END_MARK.sub("", strip_bullets(_BOLD.sub(r"\1", text)))
        mark = _PHOTO_MARK.search(same_length_shadow(text))  # 图片新闻 / 圖片新聞
        if mark:
            text = (text[: mark.start()] + text[mark.end():]).strip()
            draft.photo_mark = True
        credited = split_trailing_credit(text)
        if credited:
            text, draft.credit = credited[0], draft.credit or credited[1]
            draft.closed = True
        trailing = split_trailing_byline(text)
        if trailing:
            trailing_text = text[len(trailing[0]):].strip()
            text, byline = trailing
            if text:
                draft.body.append(text)
            if byline.photo_only and draft.opener and len(draft.body) >= 2:
                draft = self._split_caption(draft)  # "……交流。图/本报记者 陈明": a caption after a news article
            draft.byline.merge(byline)
            draft.photo_credit = byline.photo_only
            draft.closing_byline = trailing_text
            draft.closed = True
        elif text:
            draft.body.append(text)

    def finish(self) -> list[Draft]:
        if self.pending:
            lines = self._take_pending()
            assigned = _assign_end_block(lines, self.drafts)
            if assigned:
                for index, block in assigned.items():
                    self.drafts[index].headline = block
            elif self.current is not None:
                self.current.body.extend(lines)
            else:
                self._start([]).body.extend(lines)
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


def _furniture(cutter: _Cutter, text: str) -> bool:
    """Take a line of page furniture into the page's metadata; True if the line was furniture."""
    header = parse_page_header(text)
    if header is not None:
        cutter.header.fill(header)
        return True
    if is_editor_line(text):
        return True
    page = lone_page(text)
    if page is not None:
        cutter.header.page = cutter.header.page or page
        return True
    label = banner(text)
    if label is not None and parse_byline(text) is None:
        cutter.page_section = label
        cutter.in_column = is_brief_banner(label)
        return True
    return False


def _item_lead(text: str) -> tuple[str, str] | None:
    """``【标题】正文`` / ``**标题** 正文`` -> (标题, 正文) when the lead reads as a headline."""
    match = _ITEM_LEAD.match(text)
    if not match:
        return None
    lead = (match.group("bracket") or match.group("bold")).strip()
    rest = match.group("rest").strip()
    if not rest or not is_short_line(lead) or _EDITOR_NOTE.match(to_simplified(f"【{lead}】")):
        return None
    return lead, rest


def cut_page(page: Page) -> list[Draft]:
    """Walk the page's paragraphs and cut them into article drafts."""
    return _cut(page)[0]


def _cut(page: Page) -> tuple[list[Draft], PageHeader]:
    paras = paragraphs(page.text)
    leads = [None if p.heading_level else _item_lead(p.text) for p in paras]
    cutter = _Cutter()
    for index, paragraph in enumerate(paras):
        text = paragraph.text
        lookahead = " ".join(p.text for p in paras[index + 1 : index + 4])
        if not paragraph.heading_level and _furniture(cutter, text):
            continue
        if paragraph.heading_level:
            cutter.heading(paragraph, lookahead)
            continue
        lead = leads[index]
        neighbours = (index > 0 and leads[index - 1]) or (index + 1 < len(leads) and leads[index + 1])
        if lead and (cutter.in_column or neighbours or parse_dateline(lead[1]) is not None):
            cutter.item([lead[0]], lead[1], lookahead)
            continue
        dateline = parse_dateline(text)
        if dateline is not None and not (dateline.reporter and not dateline.rest):
            cutter.opener(dateline, lookahead)
            continue
        byline = parse_byline(text)
        if byline is not None:
            cutter.byline(byline, text, lookahead)
            continue
        source = parse_credit(text)
        if source is not None:
            cutter.credit(source)
            continue
        if _EDITOR_NOTE.match(same_length_shadow(text[:12])) and len(text) > 8:
            cutter.note(text, lookahead)
        elif is_short_line(text):
            marked = paragraph.emphasis or bool(_SECTION_MARK.match(text))
            bracketed = _BRACKETED_HEAD.match(text)
            held = bracketed.group(1) if bracketed else strip_bullets(text) if text[:1] in "■□●◆◇▲△★☆◎⊙▶►" else text
            cutter.hold(held, marked and not bracketed)
        elif cutter.in_column and not cutter.pending:
            cutter.item([], text, lookahead)
        else:
            cutter.text(text, lookahead)
    return cutter.finish(), cutter.header


# --- headline roles ---------------------------------------------------------------------------------

_SUBJECT = re.compile(r"[\u3400-\u9fff]{1,8}?(?:区|市|县|镇|乡|村|街道|局|委|公司|集团|中心|大学|学院|医院|办事处)")
# Parts of speech of a line that starts with a name (a place, an organisation, a person).
_NAME_TAGS = ("ns", "nt", "nz", "nr", "nrt", "nrfg", "j")
# ... and of one that starts with its predicate, no subject (保障购房者合法权益, 没有最好只有更好).
_PREDICATE_TAGS = ("v", "vd", "d", "p", "c", "ad")
_SUBTITLE_DASH = re.compile(r"^\s*[—－─-]{1,3}\s*")


def _first_tag(line: str) -> str:
    gazetteer()  # place names whole, whatever ran before: the same tags on every run
    for word, tag in rjieba.tag(to_simplified(line)):
        if word.strip() and not re.fullmatch(r"[\W_]+", word):
            return tag
    return ""


def _names_subject(line: str) -> bool:
    return bool(_SUBJECT.search(to_simplified(line))) or _first_tag(line) in _NAME_TAGS


def _starts_with_subject(line: str) -> bool:
    """Does the line open with who acts (商务部否认…, 高新区召开…), as a headline states its news?"""
    return bool(_SUBJECT.match(to_simplified(line))) or _first_tag(line) in _NAME_TAGS


def headline_roles(lines: list[str], heading_title: str | None = None) -> tuple[str, str, str]:
    """Return (kicker, title, subtitle) for up to three headline lines.

    One line is the title; three are kicker, title, subtitle; a line opened by a dash
    (``——记全国劳动模范张三``) is the subtitle. Of two lines, the one that names a subject (a place,
    an organisation, a person) is the title; when both or neither do, a first line that starts with
    its predicate (``没有最好只有更好``) or is made of parallel phrases split by spaces (``砥砺前行
    荣光有我``) is a kicker, otherwise the first line is the title and the second its subtitle. A
    markdown ``#`` line is always the title.
    """
    lines = [line.strip() for line in lines if line.strip()]
    if heading_title is not None:
        kicker = " ".join(lines[-1:]) if lines else ""
        return kicker, heading_title, ""
    if not lines:
        return "", "", ""
    subtitle = ""
    if len(lines) >= 2 and _SUBTITLE_DASH.match(lines[-1]):
        subtitle = _SUBTITLE_DASH.sub("", lines.pop())
        kicker = lines[-2] if len(lines) >= 2 else ""
        return kicker, lines[-1], subtitle
    if len(lines) == 1:
        return "", lines[0], ""
    if len(lines) >= 3:
        return lines[-3], lines[-2], lines[-1]
    first, second = lines
    first_subject, second_subject = _names_subject(first), _names_subject(second)
    if second_subject and not first_subject:
        return first, second, ""
    if first_subject == second_subject:
        first_predicate = _first_tag(first) in _PREDICATE_TAGS
        if first_predicate and _first_tag(second) not in _PREDICATE_TAGS:
            return first, second, ""
        if " " in first and " " not in second:
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


@dataclass
class ExtractedPage:
    """A page cut into articles, with what its furniture says about it and each article's dateline."""

    articles: list[Article]
    header: PageHeader
    datelines: list[tuple[int | None, int | None]]  # (month, day) of each article's dateline


def _credit(draft: Draft, header: PageHeader) -> str | None:
    """The source an article was reprinted from; the page's own paper is no credit."""
    credit = draft.credit or draft.byline.source
    if credit and header.paper and _abbreviates(to_simplified(credit), to_simplified(header.paper)):
        return None
    return credit


def _abbreviates(short: str, name: str) -> bool:
    """Is ``short`` the paper's own name or its abbreviation (南都 for 南方都市报, 郑报 for 郑州日报)?"""
    rest = iter(name)
    return all(ch in rest for ch in short)


def drafts_to_articles(page: Page, drafts: list[Draft], header: PageHeader | None = None) -> list[Article]:
    """Turn drafts into Articles (without the date, which depends on the whole page)."""
    header = header or PageHeader()
    articles: list[Article] = []
    for position, draft in enumerate(drafts, start=1):
        kicker, title, subtitle = headline_roles(draft.headline, draft.heading_title)
        body = draft.text()
        # A caption is photo news wherever it stands, a column of short items included.
        kind = "news" if draft.opener else "photo" if draft.is_photo else "news" if draft.item else "feature"
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
                section=header.section or draft.page_section,
                paper=header.paper,
                page=header.page,
                credit=_credit(draft, header),
                chars=len(body),
            )
        )
    return articles


def extract_page(page: Page) -> ExtractedPage:
    """Cut a decoded page into Articles and read its furniture (header, page, section)."""
    drafts, header = _cut(page)
    return ExtractedPage(drafts_to_articles(page, drafts, header), header, [(d.month, d.day) for d in drafts])


def extract_articles(page: Page) -> list[Article]:
    """Cut a decoded page into Articles with headline, body, bylines and kind (no metadata yet)."""
    return extract_page(page).articles
