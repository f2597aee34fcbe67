"""Article metadata: places, people, organisations, keywords (one tagging pass), and page dates.

Places come from a gazetteer of Zhengzhou's districts, counties and cities (``data/places.txt``) plus
patterns for towns, townships, sub-districts and villages; people and organisations from part-of-speech
tags (rjieba, the jieba dictionary at native speed) and patterns; keywords are TF-IDF over the same tags,
weighted with jieba.analyse's IDF table.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import rjieba

from search.ingest.bylines import looks_like_name
from search.ingest.chinese import to_simplified
from search.ingest.word_tables import word_tables

_CJK = "\u3400-\u9fff"
TAGGED_CHARS = 30_000


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, str]:
    """Map every printed form of a place to its canonical name (longest forms first)."""
    forms: dict[str, str] = {}
    text = resources.files("search").joinpath("data/places.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        names = line.split("#", 1)[0].split()
        for name in names:
            forms[name] = names[0]
    for name in forms:
        rjieba.add_word(name, None, "ns")  # keep place names whole for the tagger
    return dict(sorted(forms.items(), key=lambda item: -len(item[0])))


@lru_cache(maxsize=1)
def _gazetteer_pattern() -> re.Pattern[str]:
    return re.compile("|".join(re.escape(form) for form in gazetteer()))


# Towns, townships, sub-districts and villages: a 2–4 character name before the suffix, starting after
# a county/district name or a boundary, and not a common word that merely ends with the suffix.
_LOCAL_PLACE = re.compile(rf"(?:(?<=[县区市])|(?<![{_CJK}]))([{_CJK}]{{2,4}}?(?:街道|镇|乡|村))(?![民委级庄镇村乡域])")
_NOT_A_PLACE = re.compile(r"^(?:城乡|乡村|农村|新农村|美丽乡村|各乡|本村|该村|全村|各村|全镇|该镇|本镇|各镇|小镇|乡镇|村镇|城镇)|(?:城中村|乡村|小镇|[乡镇村][乡镇村])$|[的和与在了是等各全该为对把个利现]")


def find_places(text: str) -> list[str]:
    """Places named in the text, canonical gazetteer names first, in order of first mention.

    >>> find_places("中牟县狼城岗镇各单位、郑州高新区和登封")
    ['中牟县', '狼城岗镇', '高新区', '登封市']
    """
    found: dict[str, int] = {}
    forms = gazetteer()
    for match in _gazetteer_pattern().finditer(text):
        found.setdefault(forms[match.group(0)], match.start())
    for match in _LOCAL_PLACE.finditer(text):
        name = match.group(1)
        if _NOT_A_PLACE.search(name) or name in forms:
            continue
        first_word_pos = rjieba.tag(name)[0][1]
        if first_word_pos[:1] in ("v", "d", "c", "p", "r", "m"):
            continue  # "确保赵村", "要提升城乡": a verb or adverb, not the start of a name
        found.setdefault(name, match.start())
    return sorted(found, key=found.__getitem__)


_TITLE_BEFORE = re.compile(
    rf"(?:书记|主任|局长|区长|市长|县长|镇长|乡长|总裁|总经理|董事长|负责人|校长|主席|部长|处长|院长|所长|组长|委员|经理|专家|教授|同志)([{_CJK}]{{2,3}})"
)
_CUE_AFTER = ("指出", "表示", "强调", "要求", "说", "介绍", "主持", "出席", "带领", "一行", "认为", "带队")
_ORG_SUFFIXES = (
    "有限责任公司", "股份有限公司", "有限公司", "公司", "集团", "研究院", "研究所", "实验室", "办事处", "派出所",
    "委员会", "管委会", "党工委", "工委", "大学", "学院", "医院", "银行", "中心", "局", "协会", "商会",
)
_ORG_PARTS = {"ns", "nt", "nz", "n", "j", "nr", "nrt", "nrfg", "eng", "x"}
_PROPER = {"ns", "nt", "nz", "j", "nr", "nrt", "nrfg", "eng"}
_NOT_ORG_WORDS = {"布局", "格局", "大局", "开局", "全局", "好局", "当局", "结局", "破局", "变局", "新格局", "棋局", "中心"}
_GENERIC_ORGS = {"公司", "集团", "中心", "企业", "银行", "医院", "大学", "管委会", "党工委", "工委", "办事处", "母公司"}
_KEYWORD_POS = ("n", "nz", "ns", "nt", "vn", "v", "l", "j", "eng", "nr")


_STOP_WORDS = frozenset(
    "记者 通讯员 本报讯 本报 工作 进行 开展 推进 推动 加快 持续 全面 实现 加强 提升 积极 相关 有关 一批 方面 表示 "
    "要求 坚持 作为 通过 目前 我们 他们 这个 一个 没有 可以 已经 就是 还是 因为 所以 但是 如果 这些 那些 以及 "
    "其中 同时 进一步 不断 成为 之后 以来 今年 去年 明年 近日 日前 昨日 今天".split()
)


#: Last characters of things, not people: a word ending in one of them is not a given name even when
#: jieba's dictionary tags it ``nr`` (it tags 季后赛 and 康复 so).
_THING_ENDINGS = tuple("赛季队杯节馆站港路街湾场厂园业区县市省局院所部处科室线网台报刊费率化性石品车机器药术证法会册衣里先能表写们者")
#: A dictionary word this frequent that is tagged ``nr`` is a common word the dictionary mis-tags
#: (季后赛 588, 康复 1018), or a famous name; either way it needs a cue word or a title to count.
_COMMON_WORD_FREQ = 300


def _common_word(name: str) -> bool:
    """True if jieba's dictionary lists ``name`` as a word that is not a name (申请人, 练习册)."""
    tag = word_tables().tag(name)
    return tag is not None and not tag.startswith("nr")


def _people(tags: list[tuple[str, str]], text: str, places: set[str], orgs: Sequence[str] = ()) -> list[str]:
    """People named in the text: a name after a title (书记郭程明), or a tagged name with evidence.

    Rules (general, not per text): a candidate must look like a name (a surname, 2–4 characters), not
    end like a thing (赛, 队, 路…), not be part of an organisation's name (丰德康 in 河南丰德康种业有限公司),
    and, if it is a frequent dictionary word, have a cue word after it rather than mere repetition.
    """
    people: dict[str, None] = {}
    tables = word_tables()
    for match in _TITLE_BEFORE.finditer(text):
        name = match.group(1)
        if name.endswith(("说", "在", "和", "与", "等", "对", "将", "也", "就", "主")):
            name = name[:2]  # a three-character match that runs into the next word
        if looks_like_name(name) and not _common_word(name) and not name.endswith(_THING_ENDINGS):
            people.setdefault(name)
    # Tagged names need evidence: a cue word after them, a second mention, or a place in a list
    # ("王德敏、郑彦松、刘云华") beside an accepted name. Tags alone mistake 金刚石 for a person.
    candidates = []
    for i, (word, pos) in enumerate(tags):
        if word.endswith("说") and len(word) == 3:
            word = word[:2]  # "马远说": the tagger glued the verb to the name
        if pos.startswith("nr") and word not in places and looks_like_name(word) and not word.endswith(_THING_ENDINGS) and not _common_word(word):
            candidates.append((i, word))
    mentions = Counter(word for _, word in candidates)
    for index, word in candidates:
        following = tags[index + 1][0] if index + 1 < len(tags) else ""
        # Repetition alone is weak evidence: it counts only for a word jieba's dictionary does not know
        # (申请人 and 季后赛 are in it, mis-tagged as names; a reporter's new name is not).
        known = tables.frequency(word) is not None
        if following.startswith(_CUE_AFTER) or (mentions[word] >= 2 and len(word) == 3 and not known):
            people.setdefault(word)
    for index, word in candidates:
        neighbours = [tags[j][0] for j in (index - 2, index + 2) if 0 <= j < len(tags) and tags[(index + j) // 2][0] == "、"]
        if any(name in people for name in neighbours):
            people.setdefault(word)
    # A 2-character candidate that is a prefix of a 3-character one is the same person cut short.
    found = [p for p in people if not any(other != p and other.startswith(p) for other in people)]
    return [p for p in found if not any(p in org for org in orgs)]


#: Parts an organisation's name may hold whatever their tag (有限责任 is tagged as an idiom).
_ORG_WORDS = {"有限责任", "有限", "股份", "(", ")", "（", "）"}
#: After these words 中心 means "central" (国家中心城市), not a centre that is an organisation.
_CENTRAL_WHAT = ("城市", "城区", "地带", "区域", "地位", "位置", "环节", "任务", "工作")
#: A place followed by only one of these is no organisation's name (郑州中心); 高新区党工委 and 郑州大学 are.
_BARE_SUFFIXES = {"中心", "集团", "公司", "企业"}
#: One-character references to "the" district, city, county…: 区党工委 is 高新区党工委 seen from inside.
_SHORT_REFERENCES = {"区", "市", "县", "省", "镇", "乡", "街道"}


def _orgs(tags: list[tuple[str, str]]) -> list[str]:
    """Organisations named in the text: a run of name parts ending in an organisation suffix.

    General rules: the name starts at a proper name or a place (辖区企业中原粮食集团 → 中原粮食集团),
    is more than a place plus a bare suffix (郑州中心), is not a one-character reference (区党工委),
    keeps its parentheses balanced (河南省煤气(集团)有限责任公司), and a name that is the tail of a
    longer one found in the same text (纪检监察工委 of 高新区纪检监察工委) is left out.
    """
    gazetteer_forms = gazetteer()
    orgs: dict[str, None] = {}

    def is_part(word: str, pos: str) -> bool:
        return word in _ORG_WORDS or pos in _ORG_PARTS and re.match(rf"^[{_CJK}A-Za-z]+$", word) is not None

    tables = word_tables()

    def is_proper(word: str, pos: str) -> bool:
        if word in gazetteer_forms:
            return True
        if pos.startswith("nr") and len(word) > 1 and (tables.frequency(word) or 0) >= _COMMON_WORD_FREQ:
            return False  # a common word the dictionary tags as a name (康复); a lone surname still counts
        return pos in _PROPER and pos != "j"

    for index, (word, _) in enumerate(tags):
        if not word.endswith(_ORG_SUFFIXES):
            continue
        following = tags[index + 1][0] if index + 1 < len(tags) else ""
        if following in (")", "）"):
            continue  # "(集团)": the suffix is inside a longer name, whose own suffix comes later
        if word.endswith("中心") and following.startswith(_CENTRAL_WHAT):
            continue
        start = index
        while start > 0 and index - start < 8 and is_part(*tags[start - 1]):
            start -= 1
        # Start at the first proper name or place: 辖区 企业 中原 粮食 集团 -> 中原粮食集团 (a single
        # character is kept: 沟赵办事处's 沟 is part of the name, not a generic word before it).
        while start < index and len(tags[start][0]) > 1 and not is_proper(*tags[start]):
            start += 1
        if word in _NOT_ORG_WORDS and start == index:
            continue
        run = tags[start : index + 1]
        if word.endswith("局") and word in _NOT_ORG_WORDS or not any(is_proper(part, pos) for part, pos in run):
            continue  # "发展格局", "消费中心": no proper name, no organisation
        if run[0][0] in _SHORT_REFERENCES:
            continue
        bare = [part for part, _pos in run if part not in gazetteer_forms]
        if len(bare) == 1 and bare[0] in _BARE_SUFFIXES:
            continue  # a place and a bare suffix: 郑州中心
        name = "".join(part for part, _ in run)
        name = name.strip("（）()") if name.count("(") + name.count("（") != name.count(")") + name.count("）") else name
        if 4 <= len(name) <= 30 and name not in _GENERIC_ORGS:
            orgs.setdefault(name)
    names = list(orgs)
    return [name for name in names if not any(other != name and other.endswith(name) for other in names)]


def _keywords(tags: list[tuple[str, str]], limit: int) -> list[str]:
    tables = word_tables()
    stop = _STOP_WORDS
    counts = Counter(word for word, pos in tags if len(word) >= 2 and pos.startswith(_KEYWORD_POS) and word not in stop and not word.isdigit())
    if not counts:
        return []
    total = sum(counts.values())
    median_idf = tables.median_idf()

    def weight(word: str) -> float:
        idf = tables.idf(word)
        return median_idf if idf is None else idf

    scored = sorted(counts, key=lambda w: (-counts[w] / total * weight(w), w))
    return scored[:limit]


def describe(title: str, body: str, keyword_limit: int = 8) -> dict[str, list[str]]:
    """Places, people, orgs and keywords of one article, from one tagging pass over its text."""
    # Tagging is the cost; a (salvaged, megabyte-sized) page is described by its first 30,000 characters.
    text = to_simplified((f"{title}\n{body}" if title else body)[:TAGGED_CHARS])
    places = find_places(text)
    tags = rjieba.tag(text)
    place_set = set(places) | set(gazetteer())
    orgs = _orgs(tags)
    return {
        "places": places,
        "people": _people(tags, text, place_set, orgs),
        "orgs": orgs,
        "keywords": _keywords(tags, keyword_limit),
    }


# --- dates (kept importable from here; the rules live in search.ingest.dates) ----------------------

from search.ingest.dates import page_date, parse_iso_date  # noqa: E402,F401
