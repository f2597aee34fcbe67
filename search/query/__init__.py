"""The query side shared by every engine: query analysis, relaxation, filters, snippets.

Nothing here knows an engine. :mod:`search.query.language` reads the syntax people type,
:mod:`search.query.analyze` turns a query into a :class:`~search.query.plan.QueryPlan` (plain data:
required clauses of terms, exclusions, runs, ignored syntax), cutting unspaced Chinese into words
with the index's segmenter (:mod:`search.query.dates` reads dates typed as text).
:mod:`search.query.relax` decides which words to drop when nothing holds them all,
:mod:`search.query.alternatives` what to offer when nothing is found, :mod:`search.query.suggest`
which part of a query a completion extends, :mod:`search.query.filters` validates facet filters and
date ranges, and :mod:`search.query.snippets` marks matches in a text. Engines
(``search.engines.*``) take these and answer with the plain-data result shapes the API, the CLI and
the web share.
"""
