"""Synonyms, applied at query time: ``seeds/synonyms.toml`` groups of words that mean the same.

::

    # Each group: words that mean the same thing. A query for one finds articles with any of them.
    groups = [
        ["高新区", "郑州高新区", "高新技术产业开发区"],
        "新冠, 新型冠状病毒",            # a comma-separated string works too
    ]

Nothing is indexed differently: ``newsearch index`` copies the file beside the index (a change needs
no rebuild, only that copy), and :func:`expand` rewrites a query before any engine sees it — a
word of a group becomes ``word OR synonym OR …`` in the query language, which every engine runs the
same way. An excluded word (``-高新区``) excludes its synonyms too. The expansions used are
returned so the results can say which were applied.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from search.analysis import normalize

SYNONYMS_NAME = "synonyms.toml"
MAX_FILE_BYTES = 1024 * 1024
MAX_GROUP = 20  # words a group may hold (a query grows by a group's size)
MAX_WORD_CHARS = 30

_OPERATORS = {"or", "and", "not", "|", "||", "&&", "+"}
_UNSAFE = re.compile("[\ud800-\udfff]")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|「[^」]*」')


@dataclass
class Synonyms:
    """Groups of synonyms by normalised word (each word maps to its group, itself first)."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.groups)


def parse_synonyms(text: str, name: str = SYNONYMS_NAME) -> Synonyms:
    """Read the TOML text of a synonyms file; bad groups are reported in ``problems`` and skipped."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return Synonyms(problems=[f"{name}: not valid TOML ({error}); ignored"])
    raw_groups = data.get("groups", [])
    if not isinstance(raw_groups, list):
        return Synonyms(problems=[f"{name}: 'groups' should be a list of word lists; ignored"])
    synonyms = Synonyms()
    for number, raw in enumerate(raw_groups, start=1):
        words = [w.strip() for w in raw.split(",")] if isinstance(raw, str) else raw
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            synonyms.problems.append(f"{name}: group {number} is not a list of words; skipped")
            continue
        cleaned = list(dict.fromkeys(normalize(w).strip() for w in words if w.strip()))
        cleaned = [w for w in cleaned if len(w) <= MAX_WORD_CHARS and not any(ch.isspace() or ch == '"' for ch in w)]
        if len(cleaned) < 2:
            synonyms.problems.append(f"{name}: group {number} needs at least two words; skipped")
            continue
        if len(cleaned) > MAX_GROUP:
            synonyms.problems.append(f"{name}: group {number} has more than {MAX_GROUP} words; the rest ignored")
            cleaned = cleaned[:MAX_GROUP]
        for word in cleaned:
            group = synonyms.groups.setdefault(word, [word])
            group.extend(other for other in cleaned if other not in group)
    return synonyms


def load_synonyms(path: Path) -> Synonyms:
    """Read a synonyms file (missing: no synonyms). Never raises."""
    try:
        raw = Path(path).read_bytes()[: MAX_FILE_BYTES + 1]
    except FileNotFoundError:
        return Synonyms()
    except OSError as error:
        return Synonyms(problems=[f"{Path(path).name}: cannot read ({error.strerror or error}); ignored"])
    if len(raw) > MAX_FILE_BYTES:
        return Synonyms(problems=[f"{Path(path).name}: larger than 1 MiB; ignored"])
    try:
        return parse_synonyms(raw.decode("utf-8-sig"), Path(path).name)
    except UnicodeDecodeError:
        return Synonyms(problems=[f"{Path(path).name}: not UTF-8; ignored"])


def install(seeds_dir: Path, state_dir: Path) -> list[str]:
    """Copy ``seeds_dir/synonyms.toml`` beside the index (or remove the copy if the seeds have none),
    so searches use it from now on. Returns the file's problems (one-liners)."""
    source = Path(seeds_dir) / SYNONYMS_NAME
    target = Path(state_dir) / SYNONYMS_NAME
    if not source.is_file():
        target.unlink(missing_ok=True)
        return []
    problems = load_synonyms(source).problems
    if not target.is_file() or target.read_bytes() != source.read_bytes():
        temporary = target.with_name(f".{SYNONYMS_NAME}.tmp")
        shutil.copyfile(source, temporary)
        temporary.replace(target)  # searches read the old file or the new one, never half of one
    return problems


@dataclass
class Expansion:
    """A query rewritten with synonyms, and which words were expanded to what."""

    query: str
    used: list[dict[str, object]] = field(default_factory=list)  # [{"term", "synonyms": [...]}]


def expand(q: str, synonyms: Synonyms) -> Expansion:
    """Rewrite ``q`` so each word of a synonym group also matches its synonyms.

    Only whole, unquoted words are expanded (a quoted phrase means exactly what it says; field
    prefixes keep their field); inside an unspaced run the longest group word found is expanded.

    >>> s = parse_synonyms('groups = [["高新区", "高新技术产业开发区"]]')
    >>> expand("高新区 融资", s).query
    '高新区 OR 高新技术产业开发区 融资'
    >>> expand("-高新区", s).query
    '-高新区 -高新技术产业开发区'
    """
    if not synonyms or not q:
        return Expansion(q)
    q = _UNSAFE.sub("", q)  # lone surrogates cannot be normalised (the engine drops them too)
    used: dict[str, list[str]] = {}
    parts: list[str] = []
    position = 0
    for quoted in _QUOTED.finditer(q):
        parts.append(_expand_plain(q[position : quoted.start()], synonyms, used))
        parts.append(quoted.group(0))
        position = quoted.end()
    parts.append(_expand_plain(q[position:], synonyms, used))
    rewritten = "".join(parts)
    return Expansion(rewritten, [{"term": term, "synonyms": others} for term, others in used.items()])


def _expand_plain(text: str, synonyms: Synonyms, used: dict[str, list[str]]) -> str:
    tokens = []
    for token in re.split(r"(\s+)", text):
        tokens.append(_expand_token(token, synonyms, used) if token and not token.isspace() else token)
    return "".join(tokens)


def _expand_token(token: str, synonyms: Synonyms, used: dict[str, list[str]]) -> str:
    negated = token.startswith("-") and len(token) > 1
    body = token[1:] if negated else token
    if ":" in body or normalize(body) in _OPERATORS or body.startswith("+"):
        return token  # a field prefix or an operator: left as typed
    word = normalize(body)
    group = synonyms.groups.get(word)
    if group is None:
        # An unspaced run holding a group word: expand the longest one found, keep the rest around it.
        inside = sorted((w for w in synonyms.groups if len(w) < len(word) and w in word), key=len, reverse=True)
        if not inside or negated:
            return token
        term = inside[0]
        start = word.index(term)
        before, after = body[:start], body[start + len(term) :]
        middle = _expand_token(body[start : start + len(term)], synonyms, used)
        return " ".join(part for part in (before, middle, after) if part)
    others = [w for w in group if w != word]
    used.setdefault(word, others)
    if negated:
        return " ".join(["-" + body] + ["-" + w for w in others])
    return " OR ".join([body] + others)
