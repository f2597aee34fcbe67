"""The archive's own dictionary: ``seeds/dictionary.toml``, the newsroom's names, places and phrases.

Beside ``catalog.toml`` in the seeds directory and never read as a page. Each key holds a list of
words; the key says what they are, which the segmenter's tagger is told::

    # 人名 / people
    names = ["孙庆辉", "郭程明"]
    # 地名 / places
    places = ["枫杨园区", "梧桐园区"]
    # 机构 / organisations
    orgs = ["中原粮食集团"]
    # anything else: project names, slogans, terms
    words = ["万人助万企", "数智港"]

The next ``newsearch index`` reloads it: articles whose text holds a word that was added or removed
are segmented again (and only those), so the word is then found as a word, ranked above a fragment
match. Nothing else is rebuilt.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DICTIONARY_NAME = "dictionary.toml"
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_WORD_CHARS = 30
#: The part-of-speech tag given to each kind of entry (jieba's tag set).
TAGS = {"names": "nr", "people": "nr", "places": "ns", "orgs": "nt", "organisations": "nt", "words": "nz", "terms": "nz"}


@dataclass
class Dictionary:
    """The words of a dictionary file as ``(word, tag)`` pairs, its digest and what was wrong with it."""

    words: list[tuple[str, str]] = field(default_factory=list)
    sha256: str | None = None
    problems: list[str] = field(default_factory=list)


def load_dictionary(seeds_dir: Path) -> Dictionary:
    """Read ``seeds_dir/dictionary.toml``; a missing file is an empty dictionary, a broken one is
    reported (in ``problems``) and ignored, an odd entry is skipped by name. Never raises."""
    path = Path(seeds_dir) / DICTIONARY_NAME
    if not path.is_file():
        return Dictionary()
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
        if len(raw) > MAX_FILE_BYTES:
            return Dictionary(problems=[f"{DICTIONARY_NAME}: larger than {MAX_FILE_BYTES // 1048576} MiB; ignored"])
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return Dictionary(problems=[f"{DICTIONARY_NAME}: not readable TOML ({error}); ignored"])
    words: dict[str, str] = {}
    problems: list[str] = []
    for key, values in data.items():
        if not isinstance(values, list):
            problems.append(f"{DICTIONARY_NAME}: {key!r} should be a list of words; ignored")
            continue
        tag = TAGS.get(key.lower(), "nz")
        for value in values:
            word = value.strip() if isinstance(value, str) else ""
            if not word or len(word) > MAX_WORD_CHARS or any(ch.isspace() for ch in word):
                problems.append(f"{DICTIONARY_NAME}: {key}: {str(value)[:40]!r} is not a word (no spaces, 1-{MAX_WORD_CHARS} characters); skipped")
                continue
            words.setdefault(word, tag)
    pairs = sorted(words.items())
    digest = hashlib.sha256(repr(pairs).encode("utf-8")).hexdigest()
    return Dictionary(words=pairs, sha256=digest, problems=problems)
