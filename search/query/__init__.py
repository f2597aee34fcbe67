"""The query side shared by every engine: the query language, filters and snippets.

Nothing here knows an engine. :mod:`search.query.language` turns a typed query into plain data
(:class:`~search.query.language.ParsedQuery` of :class:`~search.query.language.Unit`),
:mod:`search.query.filters` validates facet filters and date ranges, and
:mod:`search.query.snippets` marks matches in a text. Engines (``search.engines.*``) take these and
answer with the plain-data result shapes the API, the CLI and the web share.
"""
