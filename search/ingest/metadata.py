"""Article metadata: places, people, organisations, keywords (one tagging pass), and page dates.

Places come from a gazetteer of Zhengzhou's districts, counties and cities (``data/places.txt``) plus
patterns for towns, townships, sub-districts and villages; people and organisations from part-of-speech
tags (rjieba, the jieba dictionary at native speed) and patterns; keywords are TF-IDF over the same tags,
weighted with jieba.analyse's IDF table.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from importlib import resources

import rjieba

from search.ingest.bylines import looks_like_name
from search.ingest.chinese import to_simplified

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


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """The IDF table of jieba.analyse (its ``idf.txt``) and its median, for TF-IDF keywords.

    Read directly rather than through ``jieba.analyse``, whose import builds a default extractor that
    leaves the file open; the weights and the formula are the same as ``extract_tags``.
    """
    idf: dict[str, float] = {}
    with resources.files("jieba").joinpath("analyse/idf.txt").open("r", encoding="utf-8") as lines:
        for line in lines:
            word, _, weight = line.strip().partition(" ")
            if weight:
                idf[word] = float(weight)
    weights = sorted(idf.values())
    return idf, weights[len(weights) // 2]


_STOP_WORDS = frozenset(
    "记者 通讯员 本报讯 本报 工作 进行 开展 推进 推动 加快 持续 全面 实现 加强 提升 积极 相关 有关 一批 方面 表示 "
    "要求 坚持 作为 通过 目前 我们 他们 这个 一个 没有 可以 已经 就是 还是 因为 所以 但是 如果 这些 那些 以及 "
    "其中 同时 进一步 不断 成为 之后 以来 今年 去年 明年 近日 日前 昨日 今天".split()
)


def _people(tags: list[tuple[str, str]], text: str, places: set[str]) -> list[str]:
    people: dict[str, None] = {}
    for match in _TITLE_BEFORE.finditer(text):
        name = match.group(1)
        if name.endswith(("说", "在", "和", "与", "等", "对", "将", "也", "就", "主")):
            name = name[:2]  # a three-character match that runs into the next word
        if looks_like_name(name):
            people.setdefault(name)
    # Tagged names need evidence: a cue word after them, a second mention, or a place in a list
    # ("王德敏、郑彦松、刘云华") beside an accepted name. Tags alone mistake 金刚石 for a person.
    candidates = []
    for i, (word, pos) in enumerate(tags):
        if word.endswith("说") and len(word) == 3:
            word = word[:2]  # "马远说": the tagger glued the verb to the name
        if pos.startswith("nr") and word not in places and looks_like_name(word) and not word.endswith(("化", "性", "石")):
            candidates.append((i, word))
    mentions = Counter(word for _, word in candidates)
    for index, word in candidates:
        following = tags[index + 1][0] if index + 1 < len(tags) else ""
        if following.startswith(_CUE_AFTER) or mentions[word] >= 2 and len(word) == 3:
            people.setdefault(word)
    for index, word in candidates:
        neighbours = [tags[j][0] for j in (index - 2, index + 2) if 0 <= j < len(tags) and tags[(index + j) // 2][0] == "、"]
        if any(name in people for name in neighbours):
            people.setdefault(word)
    # A 2-character candidate that is a prefix of a 3-character one is the same person cut short.
    return [p for p in people if not any(other != p and other.startswith(p) for other in people)]


def _orgs(tags: list[tuple[str, str]]) -> list[str]:
    orgs: dict[str, None] = {}
    for index, (word, _) in enumerate(tags):
        if not word.endswith(_ORG_SUFFIXES):
            continue
        start = index
        while start > 0 and index - start < 6 and tags[start - 1][1] in _ORG_PARTS and re.match(rf"^[{_CJK}A-Za-z()（）]+$", tags[start - 1][0]):
            start -= 1
        if word in _NOT_ORG_WORDS and start == index:
            continue
        run = tags[start : index + 1]
        if word.endswith("局") and word in _NOT_ORG_WORDS or not any(pos in _PROPER for _, pos in run):
            continue  # "发展格局", "消费中心": no proper name, no organisation
        name = "".join(part for part, _ in run).strip("()（）")
        if 4 <= len(name) <= 30 and name not in _GENERIC_ORGS:
            orgs.setdefault(name)
    return list(orgs)


def _keywords(tags: list[tuple[str, str]], limit: int) -> list[str]:
    idf, median_idf = _idf()
    stop = _STOP_WORDS
    counts = Counter(word for word, pos in tags if len(word) >= 2 and pos.startswith(_KEYWORD_POS) and word not in stop and not word.isdigit())
    if not counts:
        return []
    total = sum(counts.values())
    scored = sorted(counts, key=lambda w: (-counts[w] / total * idf.get(w, median_idf), w))
    return scored[:limit]


def describe(title: str, body: str, keyword_limit: int = 8) -> dict[str, list[str]]:
    """Places, people, orgs and keywords of one article, from one tagging pass over its text."""
    # Tagging is the cost; a (salvaged, megabyte-sized) page is described by its first 30,000 characters.
    text = to_simplified((f"{title}\n{body}" if title else body)[:TAGGED_CHARS])
    places = find_places(text)
    tags = rjieba.tag(text)
    place_set = set(places) | set(gazetteer())
    return {
        "places": places,
        "people": _people(tags, text, place_set),
        "orgs": _orgs(tags),
        "keywords": _keywords(tags, keyword_limit),
    }


# --- dates (kept importable from here; the rules live in search.ingest.dates) ----------------------

from search.ingest.dates import page_date, parse_iso_date  # noqa: E402,F401
