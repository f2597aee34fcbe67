"""Bylines (记者/通讯员/摄): recognising and parsing them.

A byline is a short run of role words, names and a credit: ``记者 孙庆辉 通讯员 冯亚旭 文/图``,
``本报记者 王恩俊 摄``, ``(郑报全媒体记者 王世瑾 通讯员 王欣)``, ``■本报记者 王　芳 文/图``,
``胡继权/文``. It may stand on its own line under the headline, end an article on a line of its
own or in brackets (``（记者 X 通讯员 Y）``, ``（叶洲）``), or follow an opener (:mod:`datelines`).
Roles: 记者 with any prefix (见习, 特派, 首席, 全媒体, 本报, 新华社…) and 实习生 are reporters, 通讯员
correspondents, names credited 摄 photographers; 文/图 credits both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import rjieba

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
_NOT_NAME_ENDINGS = set("网社报台刊站部局委厅处")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐")

_CJK = r"\u3400-\u9fff"
# Roles that write an article: 记者 with any prefix (本报记者, 见习记者, 特派记者, 首席记者, 全媒体记者,
# 新华社记者, 郑报全媒体记者…), 通讯员, 实习生, and a commentary's 作者.
_ROLE = rf"(?:[{_CJK}]{{0,7}}?记者|(?:特约|本报|见习|实习)?通讯员|实习生|特约撰稿人?|作者)"
# A credit after the names: 文/图, 摄, 整理, 报道; ``文`` alone only after a slash (胡继权/文).
_CREDIT = r"(?:文\s*[/／]\s*图|图\s*[/／]\s*文|文图|摄影|摄|整理|报道|供图|(?<=[/／])文|(?<=[/／]\s)文)"
# A credit before the names: 文/X, 图/X, 摄影/X, 文/图 X.
_LEAD_CREDIT = r"(?:文\s*[/／]\s*图|图\s*[/／]\s*文|文|图|摄影|摄)\s*[/／：:]"
# Where the reporter filed from: 发自北京, 从郑州, 北京(报道).
_ORIGIN = rf"(?:发自|从)\s*[{_CJK}]{{2,4}}|[{_CJK}]{{2,4}}(?=\s*报道)"
_BYLINE_TOKEN = re.compile(
    rf"(?P<credit>(?:{_CREDIT})+)(?![{_CJK}])|(?P<lead>{_LEAD_CREDIT})|(?P<role>{_ROLE})|(?P<origin>{_ORIGIN})"
    rf"|(?P<name>(?:(?!记者|通讯员|实习生|文图|文\s*[/／]|整理|摄|报道)[{_CJK}·•]){{2,5}})|(?P<sep>[\s、,，;；:：/／|]+)"
)
# Who stands before the names when no role does: a medium (全景网/陈丹蓉, 新浪体育 黎双富, 新华社发 X 摄)
# or the writer's institution (齐鲁证券 张雷).
_MEDIUM = re.compile(rf"^(?P<medium>[{_CJK}]{{2,8}}?(?:网|社|报|台|电台|电视台|体育|财经|新闻|在线|客户端))(?P<sent>发)?$")
_AFFILIATION = re.compile(rf"^[{_CJK}]{{2,10}}?(?:证券|银行|基金|公司|集团|研究所|研究院|研究中心|大学|学院|协会|事务所)$")
_MEDIUM_TOKEN = re.compile(rf"[{_CJK}]{{2,12}}")
# An editor named after the byline on one line (⊙记者 吴晓婧 ○编辑 朱绍勇): not part of the byline.
_EDITOR_AFTER = re.compile(rf"[\s\u3000]*[○●◎⊙□■]?\s*(?:责任编辑|编辑|责编|校对|美编)\s*[：:]?\s*[{_CJK}·\s\u3000]{{2,12}}$")
# Marks printed before a byline: ■本报记者 X, □ 记者 X, ⊙本报记者 X.
BULLETS = "■□●○◎⊙◆◇▲△★☆▶►▷◉•·"
# A news agency named in a role (新华社记者 李学仁 摄): the source of what it credits.
_AGENCY_ROLE = re.compile(rf"([{_CJK}]{{1,4}}社)记者")
_TRAILING_BYLINE = re.compile(rf"(?<=[。！？!?”’」』…）)])\s*(?P<byline>(?:[{_CJK}]{{0,7}}?记者|通讯员)[^。！？!?]{{2,60}})$")
_PHOTO_TAIL = re.compile(rf"(?<=[。！？!?”’」』…）)])\s*(?P<byline>(?:本报)?(?:[{_CJK}]{{0,5}}记者\s*)?[{_CJK}]{{2,4}}\s*[/／]?\s*摄)$")
# "……交流。　图/本报记者 陈明": a picture credit closing a caption.
_PHOTO_LEAD_TAIL = re.compile(r"(?<=[。！？!?”’」』…）)])\s*(?P<byline>(?:图|摄影|图片)\s*[/／：:]\s*[^。！？!?（）()]{2,24})$")
# "……。（记者 陈静）": a byline in brackets closing the last paragraph, as many papers print it;
# "……。（叶洲）", "（张 哲）": the reporter's name alone, in brackets, at the very end.
_BRACKETED_TAIL = re.compile(r"(?<=[。！？!?”’」』…])\s*[（(](?P<byline>[^（()）。，,]{2,60})[）)]$")


@dataclass
class Byline:
    """Names credited by one byline, by role."""

    reporters: list[str] = field(default_factory=list)
    correspondents: list[str] = field(default_factory=list)
    photographers: list[str] = field(default_factory=list)
    source: str | None = None  # a news agency or website it names (新华社记者 X 摄, 全景网/X -> 新华社, 全景网)
    photo: bool = False  # a picture credited to a source without a name (新华社发)

    @property
    def photo_only(self) -> bool:
        """True for a photographer's credit alone (``本报记者 王恩俊 摄``): the mark of photo news."""
        return bool(self.photographers or self.photo) and not self.reporters and not self.correspondents

    def merge(self, other: "Byline") -> None:
        """Add another byline's names (a byline continued on the next line)."""
        for mine, theirs in (
            (self.reporters, other.reporters),
            (self.correspondents, other.correspondents),
            (self.photographers, other.photographers),
        ):
            mine.extend(name for name in theirs if name not in mine)
        self.source = self.source or other.source
        self.photo = self.photo or other.photo


# A two-character name padded to the width of three (王　芳), as papers print it to align bylines.
_PADDED_NAME = re.compile(
    rf"(?:(?<![{_CJK}])|(?<=记者)|(?<=通讯员)|(?<=实习生)|(?<=摄影))([{_CJK}])[ \u3000]{{1,3}}([{_CJK}])(?![{_CJK}])"
)


def unpad_names(text: str) -> str:
    """``记者 王　芳 通讯员 李 明`` -> ``记者 王芳 通讯员 李明``: single characters padded apart are one name."""
    return _PADDED_NAME.sub(r"\1\2", text)


def looks_like_name(text: str) -> bool:
    """A personal name: 2–4 characters starting with a known surname (or a compound surname)."""
    text = to_simplified(text)
    if text[-1:] in _NOT_NAME_ENDINGS:
        return False  # 全景网, 新华社: a source, not a person
    if text.startswith(_COMPOUND_SURNAMES):
        return 3 <= len(text) <= 5
    return 2 <= len(text) <= 4 and text[0] in _SURNAMES or "·" in text or "•" in text


@dataclass
class _Medium:
    source: str | None  # a medium credited (None for an institution)
    role: str | None  # the role its names take (reporter, or photographer for 新华社发)
    photo: bool = False


def _leading_medium(text: str) -> tuple[_Medium | None, str]:
    """Split off a medium or institution standing before the names: ``全景网/陈丹蓉``, ``齐鲁证券 张雷``."""
    match = _MEDIUM_TOKEN.match(text)
    if not match:
        return None, text
    word, rest = match.group(0), text[match.end():]
    if not rest.strip(" \u3000/／") and not word.endswith("发"):
        return None, text
    if rest and rest[0] not in " \u3000/／" or re.match(r"^[在从对向为把被由经据和与]", word):
        return None, text  # "在中远氨纶公司,张红": a sentence running on, not a byline
    medium = _MEDIUM.match(word)
    if medium:
        sent = bool(medium.group("sent"))
        return _Medium(medium.group("medium"), "photographer" if sent else "reporter", photo=sent), rest
    if _AFFILIATION.match(word):
        return _Medium(None, "reporter"), rest
    return None, text


@lru_cache(maxsize=4096)
def is_place(text: str) -> bool:
    """Does the segmenter read ``text`` as one place name (北京, 郑州, 广州)?"""
    tags = rjieba.tag(text)
    return len(tags) == 1 and tags[0][1] == "ns"


def strip_bullets(text: str) -> str:
    """``■本报记者 王芳 文/图`` -> ``本报记者 王芳 文/图``."""
    return text.strip().lstrip(BULLETS).strip()


def _unbracket(text: str) -> str:
    if len(text) >= 2 and text[0] in "（(【[" and text[-1] in "）)】]":
        return text[1:-1].strip()
    return text


def parse_byline(text: str, bare_names: bool = False) -> Byline | None:
    """Parse ``text`` if all of it is a byline; return None otherwise.

    Bullets before it (``■``, ``□``, ``⊙``) and brackets around it (``（本报记者 吴迪）``) are part of
    the byline; names padded with spaces (``王　芳``) are read unpadded. ``bare_names=True`` accepts
    names without a role (``（叶洲）`` closing an article) as reporters.

    >>> parse_byline("记者 孙庆辉 通讯员 冯亚旭 文/图").correspondents
    ['冯亚旭']
    >>> parse_byline("本报记者 王恩俊 摄").photographers
    ['王恩俊']
    >>> parse_byline("■本报记者 王　芳 文/图").reporters, parse_byline("胡继权/文").reporters
    (['王芳'], ['胡继权'])
    >>> parse_byline("记者从2月12日召开的会议上获悉") is None
    True
    """
    if len(text) > 120:  # far too long for a byline: not converted (a long paragraph is judged in O(1))
        return None
    # Names are kept simplified: one spelling per person in facets.
    text = unpad_names(_unbracket(strip_bullets(to_simplified(text.strip()))))
    if not text or len(text) > 60:
        return None
    without_editor = _EDITOR_AFTER.sub("", text)
    if without_editor and without_editor != text and re.search("记者|通讯员|实习生", without_editor):
        text = without_editor.strip()
    medium, text = _leading_medium(text)
    position = 0
    role: str | None = None
    groups: list[tuple[str | None, list[str]]] = []  # (role, names)
    credits: list[tuple[int, str]] = []  # (group index, credit)
    agency = medium.source if medium else None
    if medium and medium.role:
        groups.append((medium.role, []))
    while position < len(text):
        match = _BYLINE_TOKEN.match(text, position)
        if not match or match.end() == position:
            return None
        position = match.end()
        if match.group("lead"):
            lead = re.sub(r"[\s/／：:]", "", match.group("lead"))
            groups.append(("photographer" if lead in ("图", "摄影", "摄") else "reporter", []))
            if "图" in lead and "文" in lead:
                credits.append((len(groups) - 1, "文图"))
        elif match.group("origin"):
            origin = match.group("origin")
            if not origin.startswith(("发自", "从")) and looks_like_name(origin) and not is_place(origin):
                position = match.start() + len(origin)  # "记者 孙庆辉报道": a name before 报道, not a place
                if not groups:
                    groups.append((None, []))
                groups[-1][1].append(origin)
        elif match.group("role"):
            role_text = match.group("role")
            prefix = role_text[:-2] if role_text.endswith("记者") else ""
            if prefix and groups and not groups[-1][1] and looks_like_name(prefix):
                groups[-1][1].append(prefix)  # "实习生 赵丽记者 王鸿": a name glued to the next role
                role_text = "记者"
            role = "correspondent" if "通讯员" in role_text or "撰稿" in role_text else "reporter"
            if groups and groups[-1][0] == "photographer" and not groups[-1][1]:
                role = "photographer"  # 图/本报记者 X: the lead credit names the role
            groups.append((role, []))
            found = _AGENCY_ROLE.search(role_text)
            agency = agency or (found.group(1) if found else None)
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
        if medium and medium.photo:
            return Byline(source=agency, photo=True)  # 新华社发: a picture from a source, no name
        return None
    byline = Byline(source=agency)
    photo_credit = any("摄" in credit for _, credit in credits)
    text_and_photo = any(re.search(r"文[/／]?图|图[/／]文", credit) for _, credit in credits)
    if not any(group_role for group_role, _ in groups) and not photo_credit and not bare_names:
        if not any(credit == "文" for _, credit in credits):
            return None  # bare names are not a byline
    for index, (group_role, names) in enumerate(groups):
        credited_photo = any(i == index and "摄" in credit for i, credit in credits)
        credited_text = any(i == index and credit == "文" for i, credit in credits)
        if group_role is None and not (credited_photo or credited_text or bare_names):
            return None  # names before any role and not credited "摄": not a byline of its own
        if credited_photo or group_role == "photographer" or group_role is None and not (credited_text or bare_names):
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
    """True when the line starts with an opener or dateline (``本报讯``, ``新华社北京6月10日电``…)."""
    from search.ingest.datelines import parse_dateline  # datelines builds on this module

    return parse_dateline(text) is not None


def split_opener(text: str) -> tuple[str, Byline | None, str] | None:
    """Split ``本报讯(记者 X)正文`` into (opener text, its byline or None, the rest)."""
    from search.ingest.datelines import parse_dateline

    dateline = parse_dateline(text)
    if dateline is None:
        return None
    return dateline.opener, dateline.byline, dateline.rest


def split_trailing_byline(text: str) -> tuple[str, Byline] | None:
    """Split a paragraph that ends with its article's byline: ``…的目标。记者 孙庆辉``, ``…。（叶洲）``."""
    shadow = same_length_shadow(text[-80:])
    offset = max(0, len(text) - 80)
    for pattern in (_BRACKETED_TAIL, _TRAILING_BYLINE, _PHOTO_TAIL, _PHOTO_LEAD_TAIL):
        match = pattern.search(shadow)
        if match:
            byline = parse_byline(match.group("byline"), bare_names=pattern is _BRACKETED_TAIL)
            if byline is not None:
                return text[: offset + match.start()].rstrip(), byline
    return None
