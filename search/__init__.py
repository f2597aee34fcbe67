"""新闻检索 (newsearch): full-text search for Chinese newspaper archives.

Data flows one way: seed pages -> articles -> Whoosh index -> queries -> CLI / web.
The public entry point for scripts is :class:`search.api.Archive`.
"""

__version__ = "0.1.0"
