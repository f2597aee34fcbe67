"""The plain approach every Whoosh + jieba tutorial shows, measured as the baseline.

jieba's own ``ChineseAnalyzer`` on one Whoosh TEXT field holding title and body, an ID field,
default writer settings, one process (:mod:`search.plain`, shared with the evaluation, which also
ranks queries with it). This is what our engine is compared with.
"""

from __future__ import annotations

from search.plain import PlainSearcher, build_plain_index

__all__ = ["build_plain_index", "PlainSearcher"]
