"""The Solr engine: the same archive on SolrCloud (Apache Solr 9 in cloud mode).

Extraction and analysis stay ours: Python normalises and segments (:mod:`search.analysis`) and Solr
receives pre-analysed word fields plus a CJK bigram field for fragments; the query language is
compiled to Solr parameters (:mod:`.compile`), facets use tag/exclude, snippets are made from the
stored body exactly as the embedded engine makes them. A full rebuild goes into a new collection and
then moves an alias. Modules:

- ``configset/`` (schema.xml, solrconfig.xml) and :mod:`.configsets`: uploaded by newsearch itself;
- :mod:`.client`: HTTP to the nodes (failover between them, credentials from the environment);
- :mod:`.documents`: Article ⇄ Solr documents;
- :mod:`.compile`: the plain-data query (:mod:`search.query.language`) → Solr parameters;
- :mod:`.search`: results, facets, snippets, related articles, suggestions;
- :mod:`.lifecycle`: collections, the alias, the manifest and incremental/full builds;
- :mod:`.engine`: :class:`~search.engines.solr.engine.SolrEngine`, the :class:`~search.engines.base.Engine`.
"""
