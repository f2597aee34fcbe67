"""The analysis chain: normalisation, segmentation, the Whoosh tokenizer contract, the fast index path."""

from __future__ import annotations

import re
from pathlib import Path

import jieba
import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import index

from search import analysis
from search.engines.embedded import tokenizer as tokenizer_module
from search.analysis import normalize, segmenter, userdict_entries, word_list, words
from search.model import Article
from search.engines.embedded.schema import add_articles, build_schema
from search.ingest.sources import list_seed_files, read_seed_file

REPO_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return [a for p in list_seed_files(REPO_SEEDS) for a in read_seed_file(p).articles]


# -- normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("黨史學習教育", "党史学习教育"),
        ("ＴＯＤ", "tod"),
        ("TOD", "tod"),
        ("２０２４年１１月", "2024年11月"),
        ("本報訊（記者 孫慶輝）", "本报讯(记者 孙庆辉)"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_keeps_characters_whose_nfkc_is_longer() -> None:
    # NFKC would turn ㈠ into "(一)" and ﬁ into "fi": kept as they are so offsets stay valid
    assert normalize("㈠ﬁ黨") == "㈠ﬁ党"


@given(st.text(max_size=60))
def test_normalize_keeps_length_and_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert len(once) == len(text)
    assert normalize(once) == once


# -- segmentation --------------------------------------------------------------------------------


def _split_ascii_hyphens(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        out += [t for t in re.split(r"(-)", token) if t] if re.fullmatch(r"[0-9a-z]+(-[0-9a-z]+)+", token) else [token]
    return out


def test_rjieba_cuts_equal_jiebas_on_the_seed_text(seed_articles: list[Article]) -> None:
    """The fast segmenter (jieba-rs) and jieba itself, with the same dictionary, cut the seeds alike.

    One known difference: jieba-rs keeps an ASCII run with hyphens whole (``3-5``) where jieba cuts
    ``3``, ``-``, ``5``. It is harmless here (index and queries both use rjieba) and normalised away.
    """
    reference = jieba.Tokenizer()
    for word, freq, tag in userdict_entries():
        reference.add_word(word, freq, tag)
    compared = 0
    for article in seed_articles:
        for text in (article.kicker, article.title, article.subtitle, article.body):
            norm = normalize(text)
            ours = _split_ascii_hyphens(segmenter().cut(norm))
            assert ours == list(reference.cut(norm, HMM=True)), text[:40]
            compared += len(norm)
    assert compared > 20000


def test_domain_dictionary_keeps_names_whole() -> None:
    assert word_list("中牟县狼城岗镇") == ["中牟县", "狼城岗镇"]
    assert "郑东新区" in word_list("郑东新区城市管理局")
    assert "党贺喜" in word_list("本报讯(记者 党贺喜)")


def test_a_private_segmenter_ignores_words_added_to_rjiebas_default() -> None:
    import rjieba

    before = word_list("东象市政养护")
    rjieba.add_word("东象市政养护", 100000, "n")  # what another module might do to the shared instance
    assert word_list("东象市政养护") == before


def test_words_positions_count_words_and_punctuation_but_not_spaces() -> None:
    got = words("高新区, 召开 TOD会")
    assert [(w, p) for w, p, _s, _e in got] == [("高新区", 0), ("召开", 2), ("tod", 3), ("会", 4)]


def test_words_offsets_index_the_original_text() -> None:
    text = "黨史學習教育　ＴＯＤ"
    for word, _pos, start, end in words(text):
        assert normalize(text[start:end]) == word


# -- the Whoosh tokenizer contract ----------------------------------------------------------------


def test_tokenizer_positions_chars_and_offsets() -> None:
    tokenizer = tokenizer_module.word_analyzer()
    text = "高新区召开党史学习教育推进会"
    tokens = [(t.text, t.pos, t.startchar, t.endchar) for t in tokenizer(text, positions=True, chars=True)]
    assert [t[0] for t in tokens] == ["高新区", "召开", "党史", "学习", "教育", "推进", "会"]
    assert [t[1] for t in tokens] == list(range(7))  # ordinals, not character offsets
    assert all(text[s:e] == w for w, _p, s, e in tokens)
    shifted = [(t.pos, t.startchar) for t in tokenizer(text, positions=True, chars=True, start_pos=10, start_char=100)]
    assert shifted[1] == (11, 103)


def test_tokenizer_reuses_one_token_and_accepts_modes() -> None:
    tokenizer = tokenizer_module.word_analyzer()
    ids = {id(t) for t in tokenizer("小微企业融资难题", mode="query")}
    assert len(ids) == 1
    assert [t.text for t in tokenizer("小微企业", mode="index")] == ["小微", "企业"]


def test_tokenizer_class_is_picklable_with_the_schema() -> None:
    import pickle

    schema = build_schema()
    restored = pickle.loads(pickle.dumps(schema))  # Whoosh stores the schema pickled in the index
    for name in ("title", "body"):
        assert restored[name] == schema[name]
        assert type(restored[name].analyzer) is tokenizer_module.WordTokenizer
    assert isinstance(tokenizer_module.word_analyzer(), tokenizer_module.WordTokenizer)


def test_fast_path_postings_equal_the_analyzer_path(tmp_path: Path, seed_articles: list[Article]) -> None:
    """add_articles' pre-analysed postings are exactly what Whoosh makes from the strings."""
    fast_dir, slow_dir = tmp_path / "fast", tmp_path / "slow"
    fast_dir.mkdir()
    slow_dir.mkdir()
    fast = index.create_in(str(fast_dir), build_schema())
    with fast.writer() as writer:
        add_articles(writer, seed_articles[:6])
    slow = index.create_in(str(slow_dir), build_schema())
    with slow.writer() as writer:
        for article in seed_articles[:6]:
            headline = "\n".join(p for p in (article.kicker, article.title, article.subtitle) if p)
            writer.add_document(id=article.id, title=headline, body=article.body)
    with fast.searcher() as fs, slow.searcher() as ss:
        for fieldname in ("title", "body"):
            fast_terms = list(fs.lexicon(fieldname))
            assert fast_terms == list(ss.lexicon(fieldname))
            for term in fast_terms[::7]:
                a = fs.postings(fieldname, term)
                b = ss.postings(fieldname, term)
                kind = "positions" if fieldname == "title" else "frequency"  # the body keeps no positions
                assert list(a.items_as(kind)) == list(b.items_as(kind))
            for docnum in range(6):
                assert fs.doc_field_length(docnum, fieldname) == ss.doc_field_length(docnum, fieldname)


def test_analysis_version_is_a_nonempty_string() -> None:
    assert isinstance(analysis.ANALYSIS_VERSION, str) and analysis.ANALYSIS_VERSION
