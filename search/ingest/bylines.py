"""Openers (`本报讯`) and bylines (记者/通讯员/摄): recognising and parsing them.

A byline is a short run of role words, names and a credit: ``记者 孙庆辉 通讯员 冯亚旭 文/图``,
``本报记者 王恩俊 摄``, ``(郑报全媒体记者 王世瑾 通讯员 王欣)``. It may stand on its own line, close
the last paragraph of an article, or sit in brackets after ``本报讯``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search.ingest.chinese import same_length_shadow, to_simplified

# Common Chinese surnames (single and compound); a "name" in a byline must start with one, so that
# "记者昨日获悉" is not read as a byline naming 昨日获悉.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻"
    "苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练"
    "廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿"
    "鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐")

_CJK = r"\u3400-\u9fff"
_ROLE = rf"(?:[{_CJK}]{{0,7}}?记者|(?:特约|本报|见习|实习)?通讯员|实习生|特约撰稿人?)"
_CREDIT = r"(?:文\s*[/／]\s*图|图\s*[/／]\s*文|文图|摄影|摄|整理|报道|供图)"
_BYLINE_TOKEN = re.compile(
    rf"(?P<role>{_ROLE})|(?P<credit>(?:{_CREDIT})+)(?![{_CJK}])|(?P<name>(?:(?!记者|通讯员|实习生|文图|文\s*[/／]|整理|摄)[{_CJK}·•]){{2,5}})|(?P<sep>[\s、,，;；:：/／|]+)"
)
OPENER = re.compile(rf"^本报(?:[{_CJK}\d]{{0,12}})?[讯电]\s*(?:[（(\[【]\s*(?P<inner>[^）)\]】]{{1,80}})\s*[）)\]】])?[\s:：]*")
_TRAILING_BYLINE = re.compile(rf"(?<=[。！？!?”’」』…）)])\s*(?P<byline>(?:[{_CJK}]{{0,7}}?记者|通讯员)[^。！？!?]{{2,60}})$")
_PHOTO_TAIL = re.compile(rf"(?<=[。！？!?”’」』…）)])\s*(?P<byline>(?:本报)?(?:[{_CJK}]{{0,5}}记者\s*)?[{_CJK}]{{2,4}}\s*[/／]?\s*摄)$")
# "……。（记者 陈静）": a byline in brackets closing the last paragraph, as many papers print it.
_BRACKETED_TAIL = re.compile(rf"(?<=[。！？!?”’」』…])\s*[（(](?P<byline>(?:[{_CJK}]{{0,7}}?记者|(?:特约|本报)?通讯员)[^（()）]{{2,60}})[）)]$")


@dataclass
class Byline:
    """Names credited by one byline, by role."""

    reporters: list[str] = field(default_factory=list)
    correspondents: list[str] = field(default_factory=list)
    photographers: list[str] = field(default_factory=list)

    @property
    def photo_only(self) -> bool:
        """True for a photographer's credit alone (``本报记者 王恩俊 摄``): the mark of photo news."""
        return bool(self.photographers) and not self.reporters and not self.correspondents

    def merge(self, other: "Byline") -> None:
        """Add another byline's names (a byline continued on the next line)."""
        for mine, theirs in (
            (self.reporters, other.reporters),
            (self.correspondents, other.correspondents),
            (self.photographers, other.photographers),
        ):
            mine.extend(name for name in theirs if name not in mine)


def looks_like_name(text: str) -> bool:
    """A personal name: 2–4 characters starting with a known surname (or a compound surname)."""
    text = to_simplified(text)
    if text.startswith(_COMPOUND_SURNAMES):
        return 3 <= len(text) <= 5
    return 2 <= len(text) <= 4 and text[0] in _SURNAMES or "·" in text or "•" in text


def parse_byline(text: str) -> Byline | None:
    """Parse ``text`` if all of it is a byline; return None otherwise.

    >>> parse_byline("记者 孙庆辉 通讯员 冯亚旭 文/图").correspondents
    ['冯亚旭']
    >>> parse_byline("本报记者 王恩俊 摄").photographers
    ['王恩俊']
    >>> parse_byline("记者从2月12日召开的会议上获悉") is None
    True
    """
    if len(text) > 120:  # far too long for a byline: not converted (a long paragraph is judged in O(1))
        return None
    text = to_simplified(text.strip())  # names are kept simplified: one spelling per person in facets
    if not text or len(text) > 60:
        return None
    position = 0
    role: str | None = None
    groups: list[tuple[str | None, list[str]]] = []  # (role, names)
    credits: list[tuple[int, str]] = []  # (group index, credit)
    while position < len(text):
        match = _BYLINE_TOKEN.match(text, position)
        if not match or match.end() == position:
            return None
        position = match.end()
        if match.group("role"):
            role = "correspondent" if "通讯员" in match.group("role") or "撰稿" in match.group("role") else "reporter"
            groups.append((role, []))
        elif match.group("credit"):
            credits.append((len(groups) - 1, re.sub(r"\s", "", match.group("credit"))))
        elif match.group("name"):
            name = match.group("name")
            if not looks_like_name(name):
                return None
            if not groups:
                groups.append((None, []))
            groups[-1][1].append(name)
    if not any(names for _, names in groups):
        return None
    byline = Byline()
    photo_credit = any("摄" in credit for _, credit in credits)
    text_and_photo = any(re.search(r"文[/／]?图|图[/／]文", credit) for _, credit in credits)
    if not any(group_role for group_role, _ in groups) and not photo_credit:
        return None  # bare names are not a byline
    for index, (group_role, names) in enumerate(groups):
        credited_photo = any(i == index and "摄" in credit for i, credit in credits)
        if group_role is None and not credited_photo:
            return None  # names before any role and not credited "摄": not a byline of its own
        if credited_photo or group_role is None:
            byline.photographers.extend(names)
        elif group_role == "correspondent":
            byline.correspondents.extend(names)
        else:
            byline.reporters.extend(names)
    if text_and_photo:
        # "文/图" credits everyone named with both the words and the pictures.
        byline.photographers.extend(n for n in byline.reporters + byline.correspondents if n not in byline.photographers)
    return byline


def is_byline_line(text: str) -> bool:
    """True when the whole line is a byline."""
    return parse_byline(text) is not None


def is_opener(text: str) -> bool:
    """True when the line starts with a `本报讯` opener (traditional `本報訊` too)."""
    return bool(OPENER.match(to_simplified(text[:100])))


def split_opener(text: str) -> tuple[str, Byline | None, str] | None:
    """Split ``本报讯(记者 X)正文`` into (opener text, bracketed byline or None, the rest)."""
    shadow = same_length_shadow(text)  # match on simplified text, cut the original at the same offsets
    match = OPENER.match(shadow)
    if not match:
        return None
    inner = match.group("inner")
    byline = parse_byline(inner) if inner else None
    if inner and byline is None:
        # Brackets that are not a byline belong to the text (e.g. a place in brackets).
        plain = re.match(rf"^本报(?:[{_CJK}\d]{{0,12}})?[讯电]\s*", shadow)
        assert plain is not None
        return plain.group(0).strip(), None, text[plain.end():].strip()
    return match.group(0).strip(), byline, text[match.end():].strip()


def split_trailing_byline(text: str) -> tuple[str, Byline] | None:
    """Split a paragraph that ends with its article's byline: ``…的目标。记者 孙庆辉``."""
    shadow = same_length_shadow(text[-80:])
    offset = max(0, len(text) - 80)
    for pattern in (_BRACKETED_TAIL, _TRAILING_BYLINE, _PHOTO_TAIL):
        match = pattern.search(shadow)
        if match:
            byline = parse_byline(match.group("byline"))
            if byline is not None:
                return text[: offset + match.start()].rstrip(), byline
    return None
