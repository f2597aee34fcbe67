"""The Whoosh tokenizer of the word fields: :func:`search.analysis.words` behind Whoosh's contract.

It honours the tokenizer keywords (``positions``, ``chars``, ``keeporiginal``, ``start_pos``,
``start_char``, ``mode``) and yields one reused ``Token``; positions come from a counter and
character spans from the segmenter (unlike jieba's own Whoosh analyzer, which stores character
offsets as positions and breaks phrase queries). The class is built on first use, so importing
this module does not import Whoosh.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from search.analysis import words

@lru_cache(maxsize=1)
def _tokenizer_class() -> type:
    from whoosh.analysis import Token, Tokenizer

    class WordTokenizer(Tokenizer):  # type: ignore[misc]
        """Whoosh tokenizer: normalised jieba precise-mode words with true positions and offsets."""

        def __call__(
            self,
            value: str,
            positions: bool = False,
            chars: bool = False,
            keeporiginal: bool = False,
            removestops: bool = True,
            start_pos: int = 0,
            start_char: int = 0,
            mode: str = "",
            **kwargs: Any,
        ) -> Iterator[Token]:
            token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
            for word, pos, start, end in words(value):
                token.text = word
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = value[start:end]
                if positions:
                    token.pos = start_pos + pos
                if chars:
                    token.startchar = start_char + start
                    token.endchar = start_char + end
                yield token

    # Schemas are pickled into the index: name the classes as this module's attributes (served by
    # the module __getattr__ below) so pickle finds these very objects again.
    WordTokenizer.__module__ = __name__
    WordTokenizer.__qualname__ = WordTokenizer.__name__
    return WordTokenizer


def __getattr__(name: str) -> Any:
    """``WordTokenizer``: the Whoosh tokenizer class, created on first use."""
    if name == "WordTokenizer":
        return _tokenizer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def word_analyzer() -> Any:
    """The analyzer of the word fields (title, lead, body): normalisation and segmentation in one."""
    return _tokenizer_class()()
