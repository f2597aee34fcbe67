"""The ``newsearch`` command line: thin commands over :mod:`search.api` (its contract is in the README).

User errors (no index, unknown id, bad filter or sort, bad saved-queries file) become one-line
``click.ClickException`` messages with a non-zero exit, never a traceback. Heavy modules (Whoosh, the
engine, the web app) are imported inside the commands that need them, so ``--help`` and an unchanged
``index`` run stay fast.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import os
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from search import __version__
from search.api import (
    Archive,
    BuildError,
    BuildReport,
    IndexMissing,
    QueryError,
    SearchHit,
    SearchResponse,
    rebuild,
)

SORTS = ("relevance", "newest", "oldest")  # the engine's SORTS must agree (checked in tests)
CSV_FIELDS = ("id", "title", "kicker", "subtitle", "source", "date", "reporters", "places", "kind", "score", "snippet", "paper", "page", "section", "credit")
F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------------------------
# Shared options and error handling


def _seeds_option(func: F) -> F:
    return click.option(
        "--seeds",
        "seeds_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default="./seeds",
        envvar="NEWSEARCH_SEEDS",
        show_default=True,
        show_envvar=True,
        help="Directory of seed pages (.txt, .md, .jsonl, catalog.toml).",
    )(func)


def _index_option(func: F) -> F:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default="./index_data",
        envvar="NEWSEARCH_INDEX",
        show_default=True,
        show_envvar=True,
        help="Index directory.",
    )(func)


_BACKEND_KEY = "newsearch.backend"


def _backend_options(func: F) -> F:
    """``--backend``, ``--solr`` and ``--collection`` (with their environment variables and the config
    file, see :mod:`search.settings`): where the archive lives. The command reads the result with
    :func:`_settings`."""

    @functools.wraps(func)
    def wrapper(*args: Any, backend: str | None, solr_url: str | None, collection: str | None, **kwargs: Any) -> Any:
        from search.settings import SettingsError, resolve

        try:
            settings = resolve(backend, solr_url, collection)
        except SettingsError as error:
            raise click.ClickException(str(error)) from None
        click.get_current_context().meta[_BACKEND_KEY] = settings
        return func(*args, **kwargs)

    options = [
        click.option("--backend", type=click.Choice(["embedded", "solr"]), default=None, envvar="NEWSEARCH_BACKEND",
                     show_envvar=True, help="Where the archive lives: the embedded index (default) or SolrCloud."),
        click.option("--solr", "solr_url", default=None, metavar="URL", envvar="NEWSEARCH_SOLR", show_envvar=True,
                     help="SolrCloud node URL(s), comma-separated (e.g. http://127.0.0.1:8983/solr)."),
        click.option("--collection", default=None, metavar="NAME", envvar="NEWSEARCH_COLLECTION", show_envvar=True,
                     help="Solr collection alias [default: news]."),
    ]  # fmt: skip
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def _settings() -> Any:
    """The backend settings of the running command (embedded unless a backend option said otherwise)."""
    from search.settings import BackendSettings

    return click.get_current_context().meta.get(_BACKEND_KEY) or BackendSettings()


def _user_errors(func: F) -> F:
    """Turn the library's user-facing errors into one-line click errors."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from search.saved import SavedQueryError
        from search.settings import SettingsError

        try:
            return func(*args, **kwargs)
        except (IndexMissing, BuildError, SavedQueryError, QueryError, SettingsError) as error:
            raise click.ClickException(str(error)) from None
        except BrokenPipeError:
            # Output piped into `head` and closed early: not an error worth a traceback.
            sys.stderr.close()
            sys.exit(0)
        except OSError as error:
            # A file or directory the command needs cannot be read or written (permissions, disk full).
            where = f": {error.filename}" if error.filename else ""
            raise click.ClickException(f"{error.strerror or error}{where}") from None

    return wrapper  # type: ignore[return-value]


def _open_archive(index_dir: Path) -> Archive:
    return Archive.open(index_dir, **_settings().engine_options())


def _rebuild(seeds_dir: Path, index_dir: Path, **options: Any) -> BuildReport:
    """An index run on the command's backend."""
    return rebuild(seeds_dir, index_dir, **_settings().engine_options(), **options)


_INDEX_ENTRIES = re.compile(r"^(current\.json|\.build\.lock|saved_state\.json|\.saved_state\.lock|gen-\d+)$")


def _check_index_target(index_dir: Path, seeds_dir: Path) -> None:
    """Refuse to build an index where it would be mixed into other files: the seeds directory, or any
    directory that is neither empty nor an index (``--index ~`` or ``--index /etc`` by mistake)."""
    if index_dir.is_dir() and seeds_dir.is_dir() and index_dir.resolve() == seeds_dir.resolve():
        raise click.ClickException(f"--index and --seeds are the same directory ({index_dir}); give the index a directory of its own")
    try:
        names = sorted(entry.name for entry in os.scandir(index_dir))
    except (FileNotFoundError, NotADirectoryError):
        return  # a new directory, created by the index run (which reports a path it cannot create)
    except OSError as error:
        raise click.ClickException(f"cannot read the index directory {index_dir}: {error.strerror or error}") from None
    # Hidden files other than ours (a repository's .gitkeep placeholder, .DS_Store) do not count.
    others = [name for name in names if not name.startswith(".") and not _INDEX_ENTRIES.match(name)]
    if others and not any(_INDEX_ENTRIES.match(name) for name in names):
        raise click.ClickException(
            f"{index_dir} is not an index directory (it holds {_names(names, 3)}); give --index a new or empty directory"
        )


def _parse_filters(items: Sequence[str]) -> dict[str, list[str]]:
    from search.query.filters import FACETS

    allowed = tuple(FACETS) + ("from", "to")
    filters: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--filter")
        if name not in allowed:
            raise click.BadParameter(f"unknown field {name!r} (use one of: {', '.join(allowed)})", param_hint="--filter")
        filters.setdefault(name, []).append(value)
    return filters


# ---------------------------------------------------------------------------------------------
# Text rendering (terminal width aware: CJK characters take two columns)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide and full-width characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` columns (with an ellipsis if cut) and pad it to exactly ``width``."""
    text = " ".join(text.split())
    if display_width(text) > width:
        out, used = [], 0
        for ch in text:
            w = display_width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    return text + " " * (width - display_width(text))


def plain_snippet(snippet: str, mark: Callable[[str], str] | None = None) -> str:
    """An HTML snippet as terminal text; ``<mark>`` parts passed through ``mark`` (default 【…】)."""
    mark = mark or (lambda text: f"【{text}】")
    parts = re.split(r"<mark>(.*?)</mark>", snippet or "", flags=re.S)
    out = []
    for index, part in enumerate(parts):
        text = html.unescape(re.sub(r"<[^>]+>", "", part))
        out.append(mark(text) if index % 2 else text)
    return " ".join("".join(out).split())


def _headline(hit: SearchHit) -> str:
    """The hit's headline; for an article printed without one, the first sentence of its lead
    (not the snippet, which comes from wherever the match was)."""
    if hit.title or hit.kicker or hit.subtitle:
        return hit.title or hit.kicker or hit.subtitle
    lead = str(hit.extra.get("lead") or "").strip()
    first = re.split(r"[。！？!?；;\n]", lead, maxsplit=1)[0].strip()
    return f"{first[:40]} (untitled)" if first else "(untitled)"


def _notices(response: SearchResponse) -> list[str]:
    """How the search read the query (words the results lack, syntax ignored, dates), the
    did-you-mean correction and the synonyms used, as table lines."""
    lines = _reading_notes(response)
    correction = response.extra.get("did_you_mean")
    if correction:
        total = response.extra.get("did_you_mean_total")
        lines.append(f"您是不是要找：{correction}" + (f"（{total} 篇）" if total else "") + f"    newsearch search {correction!r}")
    for item in response.extra.get("synonyms") or []:
        lines.append(f"synonyms: {item['term']} -> {'、'.join(item['synonyms'])}")
    return lines


def render_table(response: SearchResponse, color: bool = False, facets: bool = True) -> str:
    """Results as an aligned table with a snippet line under each row, then paging and top facets
    (did-you-mean and synonym lines first, when the search has them)."""
    width = max(60, shutil.get_terminal_size((100, 24)).columns)
    if not response.results:
        what = f"for {response.query!r}" if response.query else "for these filters"
        lines = [f"No results {what}" + (f" (page {response.page})" if response.page > 1 else "") + "."]
        for item in response.extra.get("alternatives") or []:
            lines.append(f"  try: newsearch search {_shell_quote(str(item.get('q', '')))}  ({item.get('total')} found)")
    else:
        start = (response.page - 1) * response.limit
        num_w = len(str(start + len(response.results)))
        fixed = num_w + 2 + 10 + 2 + 7 + 2 + 12 + 2 + 16
        title_w = max(16, width - fixed - 1)
        header = f"{'#':>{num_w}}  {fit('date', 10)}  {fit('kind', 7)}  {fit('title', title_w)}  {fit('reporters', 12)}  id"
        lines = [header, "-" * min(width, display_width(header) + 14)]
        style = (lambda text: click.style(text, bold=True, fg="yellow")) if color else None
        for offset, hit in enumerate(response.results, start=1):
            lines.append(
                f"{start + offset:>{num_w}}  {fit(hit.date or '', 10)}  {fit(hit.kind, 7)}  "
                f"{fit(_headline(hit), title_w)}  {fit('、'.join(hit.reporters), 12)}  {hit.id}"
            )
            snippet = plain_snippet(hit.snippet, style)
            if snippet:
                lines.append(" " * (num_w + 2) + (snippet if color else fit(snippet, width - num_w - 3).rstrip()))
    lines = _notices(response) + lines
    lines.append("")
    shown = f"{(response.page - 1) * response.limit + 1}-{(response.page - 1) * response.limit + len(response.results)}"
    lines.append(
        f"{response.total} result{'s' if response.total != 1 else ''}"
        + (f", showing {shown}" if response.results else "")
        + f" (page {response.page} of {response.pages}, {response.sort}, {response.took_ms:.0f} ms)"
    )
    from search.ingest.files import printable_name

    if facets:
        for name, values in response.facets.items():
            if values:
                lines.append(f"  {name}: " + ", ".join(f"{printable_name(str(v.value))} ({v.count})" for v in values[:6]))
    return "\n".join(lines)


def _shell_quote(text: str) -> str:
    """``text`` as one shell word (single quotes unless it needs none)."""
    return text if re.fullmatch(r"[\w\-+:.,/]+", text) else "'" + text.replace("'", "'\\''") + "'"


def _reading_notes(response: SearchResponse) -> list[str]:
    """Lines saying how the query was read: words the results lack (with the query requiring them
    all), syntax that was ignored, dates typed as text."""
    from search.ingest.files import printable_name
    from search.query.plan import IGNORED_REASONS

    lines = []
    relaxed = response.extra.get("relaxed") or {}
    if relaxed.get("dropped"):
        missing = "、".join(printable_name(str(word)) for word in relaxed["dropped"])
        lines.append(f"以下结果不含：{missing}  (no article holds every word)")
        lines.append(f"  all words: newsearch search {_shell_quote(printable_name(str(relaxed.get('all_words_query', ''))))}")
    for item in response.extra.get("ignored") or []:
        reason = IGNORED_REASONS.get(str(item.get("reason")), str(item.get("reason")))
        lines.append(f"ignored {printable_name(str(item.get('text', '')))!r}: {reason}")
    for item in response.extra.get("dates") or []:
        lines.append(f"date {printable_name(str(item.get('text', '')))}: articles of {item.get('date')} and texts naming it")
    return lines


def _csv_row(hit: SearchHit) -> list[Any]:
    row = hit.to_dict()
    out = []
    for name in CSV_FIELDS:
        value = row.get(name)
        if isinstance(value, list):
            value = ";".join(str(item) for item in value)
        elif name == "snippet":
            value = plain_snippet(str(value or ""), lambda text: text)
        out.append("" if value is None else value)
    return out


def render_csv(rows: Iterable[tuple[Any, SearchHit]], with_query: bool = False) -> str:
    """Hits as CSV with a header; ``with_query`` adds a first column naming the saved query and a
    last one, ``query_text``, with its query string (rows are then ``(SavedQuery, hit)``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((["query"] if with_query else []) + list(CSV_FIELDS) + (["query_text"] if with_query else []))
    for query, hit in rows:
        if with_query:
            writer.writerow([query.name] + _csv_row(hit) + [query.q])
        else:
            writer.writerow(_csv_row(hit))
    return buffer.getvalue().rstrip("\n")


def _json(data: Any, indent: int | None = 2) -> str:
    return json.dumps(data, ensure_ascii=False, indent=indent)


def _names(names: list[str], limit: int = 12) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", … and {len(names) - limit} more"


_TRAILING_SKIPPED = re.compile(r"(?:;\s*)?\bskipped\s*$")


def render_report(report: BuildReport) -> list[str]:
    """What an index run did: changed files by name, each skipped file and why, problems, a summary.

    File names are printed with newlines, terminal escapes and other unprintable characters escaped.
    """
    from search.ingest.files import printable_name

    lines = []
    if report.full and report.full_reason:
        lines.append(f"full rebuild ({report.full_reason})")
    if len(report.damaged) > 3:
        lines += [f"damaged: {problem}" for problem in report.damaged]
    if report.added:
        lines.append(f"added {len(report.added)}: {_names([printable_name(name) for name in report.added])}")
    if report.updated:
        lines.append(
            f"updated {len(report.updated)}: "
            + _names([f"{printable_name(name)} ({report.reasons.get(name, 'changed')})" for name in report.updated])
        )
    if report.removed:
        lines.append(f"removed {len(report.removed)}: {_names([printable_name(name) for name in report.removed])}")
    if report.dictionary_changed:
        lines.append(
            f"dictionary: {len(report.dictionary_changed)} words changed ({_names(report.dictionary_changed, 8)}); "
            f"{report.articles_reindexed} articles holding them segmented again"
        )
    for name, reason in sorted(report.skipped.items()):
        # "skipped empty.txt: empty file", not "...: empty file; skipped".
        why = _TRAILING_SKIPPED.sub("", reason).strip() or "nothing to index"
        verb = "refused" if name in report.refused else "skipped"
        lines.append(f"{verb} {printable_name(name)}: {why}")
    for name, problems in sorted(report.problems.items()):
        if name in report.skipped:
            continue
        for problem in problems:
            lines.append(f"warning {printable_name(name)}: {problem}")
    lines.append(report.summary())
    return lines


# ---------------------------------------------------------------------------------------------
# Commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="newsearch")
def main() -> None:
    """新闻检索 (newsearch): full-text search for Chinese newspaper archives.

    \b
    Example:
        newsearch index
        newsearch search "小微企业 融资" --filter place=高新区
        newsearch serve --port 8000
    """


#: Exit status of ``newsearch index`` when the index was written but a seed file was refused (too large).
EXIT_REFUSED = 3


@main.command("index")
@_seeds_option
@_index_option
@_backend_options
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of only new/changed/deleted files.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, envvar="NEWSEARCH_JOBS", show_envvar=True,
              help="Processes for a full build (default: one per core).")
@click.option("--file-timeout", type=click.FloatRange(0), default=None, envvar="NEWSEARCH_FILE_TIMEOUT", show_envvar=True,
              metavar="SECONDS", help="Time one page (or one .jsonl record) may take to extract before it is skipped "
              "[default: 30; 0: no limit].")
@click.option("--follow-symlinks", is_flag=True, help="Also index symbolic links that point outside the seeds directory.")
@click.option("--verify", is_flag=True, help="Hash every index file first (finds damage that kept sizes and dates).")
@_user_errors
def index_command(
    seeds_dir: Path, index_dir: Path, full: bool, jobs: int | None, file_timeout: float | None, follow_symlinks: bool, verify: bool
) -> None:
    """Bring the index up to date with the seed files.

    Only new and changed files are extracted and deleted files' articles removed; searches keep
    working meanwhile. A full build (the first, --full, after an analysis upgrade, or when the
    index's files no longer match their checksums) uses every core. Exit status is 0, 1 if the
    index could not be written, 3 if a seed file was refused for its size.

    \b
    Example:
        newsearch index
        newsearch index --seeds ./seeds --index ./index_data --full
    """
    from search.progress import TerminalProgress

    if _settings().backend == "embedded":
        _check_index_target(index_dir, seeds_dir)
    stderr = click.get_text_stream("stderr")
    say = functools.partial(click.echo, err=True)
    options = {"full": full, "on_message": say, "jobs": jobs, "file_timeout": file_timeout,
               "follow_symlinks": follow_symlinks, "verify": verify}  # fmt: skip
    if stderr.isatty():
        with TerminalProgress() as bar:
            report = _rebuild(seeds_dir, index_dir, progress=bar, **options)
    else:
        report = _rebuild(seeds_dir, index_dir, **options)
    for line in render_report(report):
        click.echo(line)
    if report.refused:
        sys.exit(EXIT_REFUSED)


@main.command("search")
@click.argument("query", required=False, default="")
@_index_option
@_backend_options
@click.option("--filter", "filter_items", multiple=True, metavar="FIELD=VALUE",
              help="Facet filter (place, reporter, year, month, kind, source, section, person, org, paper, page, credit, from, to); repeatable.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="Results per page.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@_user_errors
def search_command(query: str, index_dir: Path, filter_items: tuple[str, ...], sort: str, limit: int, page: int, fmt: str) -> None:
    """Search the archive; with only filters (no QUERY), list what they select.

    Type Chinese without spaces: the query is cut into words and every word must match (as a word,
    a name or characters). OR/|, AND/&&/+word, -word/NOT, "exact phrase", title:, reporter:, place:
    work; dates typed as text (2024年11月22日) match the article's date. When no article holds every
    word, the table says which words the results lack; a likely typo or pinyin typed in Latin
    letters gets a 您是不是要找 line.

    \b
    Example:
        newsearch search 高新区小微企业融资
        newsearch search "小微企业 融资" --filter place=高新区 --filter year=2024
        newsearch search 党史学习教育 --sort newest --format json
        newsearch search 融资 --filter from=2024-01 --filter to=2024-06 --format csv > hits.csv
        newsearch search --filter reporter=孙庆辉 --sort newest
    """
    filters = _parse_filters(filter_items)
    if not query.strip() and not filters:
        raise click.UsageError("give a QUERY, at least one --filter, or both")
    response = _open_archive(index_dir).search(query, filters=filters, sort=sort, page=page, limit=limit)
    if fmt == "json":
        click.echo(_json(response.to_dict()))
    elif fmt == "csv":
        click.echo(render_csv((None, hit) for hit in response.results))
    else:
        click.echo(render_table(response, color=sys.stdout.isatty()))


@main.command("show")
@click.argument("article_id", metavar="ID")
@_index_option
@_backend_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_user_errors
def show_command(article_id: str, index_dir: Path, fmt: str) -> None:
    """Show one article, all fields.

    \b
    Example:
        newsearch show 3f2a9c1e0b7d4a51
        newsearch show 3f2a9c1e0b7d4a51 --format json
    """
    article = _open_archive(index_dir).article(article_id)
    if article is None:
        raise click.ClickException(f"no article with id {article_id!r} in {_settings().describe(index_dir)}")
    if fmt == "json":
        click.echo(_json(article.to_dict()))
        return
    from search.ingest.files import printable_name

    data = article.to_dict()
    lines = [part for part in (article.kicker, article.title or "(untitled)", article.subtitle) if part]
    lines.append("=" * min(60, max(display_width(line) for line in lines)))
    for name in ("id", "source", "position", "date", "paper", "page", "section", "credit", "kind", "reporters",
                 "correspondents", "photographers", "places", "people", "orgs", "keywords", "chars"):
        value = data.get(name)
        if value in (None, "", []):
            continue
        text = "、".join(value) if isinstance(value, list) else str(value)
        lines.append(f"{name + ':':16}{printable_name(text)}")  # a file name may hold a newline or an escape
    lines += ["", article.body]
    click.echo("\n".join(lines))


@main.command("export")
@_index_option
@_backend_options
@click.option("--q", "query", default=None, metavar="QUERY", help="Export only what this search finds (all of it, not a page).")
@click.option("--filter", "filter_items", multiple=True, metavar="FIELD=VALUE",
              help="Export only what these filters select (as for search); repeatable.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True, help="Order of a search's articles.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--bom/--no-bom", default=True, show_default=True, help="Start CSV with a UTF-8 byte-order mark (for Excel).")
@_user_errors
def export_command(index_dir: Path, query: str | None, filter_items: tuple[str, ...], sort: str, fmt: str, bom: bool) -> None:
    """Print articles with every field: all of them, or every one a search finds.

    JSON Lines (one object an article) or CSV (list fields joined with ";"; a UTF-8 byte-order mark
    first, so Excel on a Chinese Windows PC reads it). ``title_note`` says why a title is empty.

    \b
    Example:
        newsearch export > articles.jsonl
        newsearch export --q 小微企业 --filter year=2024 --format csv > 小微企业.csv
        newsearch export --filter reporter=孙庆辉 --sort newest
    """
    from search.exporting import csv_lines, jsonl_lines

    filters = _parse_filters(filter_items)
    archive = _open_archive(index_dir)
    articles = archive.export(q=query, filters=filters, sort=sort) if query is not None or filters else archive.export()
    out = click.get_text_stream("stdout")
    for line in csv_lines(articles, bom=bom) if fmt == "csv" else jsonl_lines(articles):
        out.write(line)
    out.flush()


@main.command("stats")
@_index_option
@_backend_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_user_errors
def stats_command(index_dir: Path, fmt: str) -> None:
    """Articles, pages, terms, index size and last build.

    \b
    Example:
        newsearch stats
        newsearch stats --format json
    """
    archive = Archive(index_dir, **_settings().engine_options())
    run = archive.run_in_progress()
    if run is not None and fmt == "text":
        click.echo(f"{'run:':15}index run in progress (pid {run.get('pid')}; {run.get('summary')})")
    archive.check()
    stats = archive.stats()
    if fmt == "json":
        click.echo(_json({**stats, "run": run}))
        return
    size = stats["index_bytes"]
    human = f"{size / 1048576:.1f} MiB" if size >= 1048576 else f"{size / 1024:.1f} KiB"
    rows = [
        ("index", f"{stats['index_dir']} ({stats['generation']})"),
        ("articles", stats["articles"]),
        ("pages", stats["pages"]),
        ("terms", stats["terms"]),
        ("index size", f"{human} ({size} bytes)"),
        ("last build", stats["last_build"] or "unknown"),
        ("analysis", stats["analysis_version"]),
    ]
    if stats["skipped_files"]:
        rows.append(("skipped files", ", ".join(stats["skipped_files"])))
    for name, value in rows:
        click.echo(f"{name + ':':15}{value}")


@main.command("check")
@_index_option
@_backend_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_user_errors
def check_command(index_dir: Path, fmt: str) -> None:
    """Verify the index: hash every index file, compare with the manifest, then run a search.

    Exit status 0 when the index is sound, 1 when it is damaged (`newsearch index --verify`
    rebuilds it from the seeds). Finds damage that kept file sizes and dates, which the quick
    check before every index run does not; worth a weekly cron line.

    \b
    Example:
        newsearch check
        newsearch check --format json
    """
    result = Archive(index_dir, **_settings().engine_options()).verify()
    if fmt == "json":
        click.echo(_json(result))
    if not result["ok"]:
        problems = "; ".join(result["problems"][:5]) + (f"; and {len(result['problems']) - 5} more" if len(result["problems"]) > 5 else "")
        raise click.ClickException(
            f"the index in {index_dir} is damaged ({problems}); `newsearch index --verify` rebuilds it from the seeds"
        )
    if fmt == "text" and result.get("files") is None:  # an engine that keeps no checksums (Solr)
        click.echo(f"index OK: {result.get('articles')} articles searchable")
    elif fmt == "text":
        size = result.get("bytes") or 0
        click.echo(
            f"index OK: {result.get('generation')}, {result.get('files')} files ({size / 1048576:.1f} MiB) match their "
            f"sha256; {result.get('articles')} articles searchable ({result.get('seconds')} s)"
        )


@main.command("serve")
@_index_option
@_backend_options
@_seeds_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Waitress threads per worker process.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes sharing the port and the memory-mapped index [default: $NEWSEARCH_WORKERS or every core, at most 8].",
)
@_user_errors
def serve_command(index_dir: Path, seeds_dir: Path, host: str, port: int, threads: int, workers: int | None) -> None:
    """Serve the search pages and JSON API with waitress (builds the index first if missing).

    Searches run in parallel in several worker processes (one per core by default).

    \b
    Example:
        newsearch serve
        newsearch serve --host 0.0.0.0 --port 8080 --index /srv/news/index_data
        newsearch serve --workers 1             # one process
    """
    settings = _settings()
    if not Archive(index_dir, **settings.engine_options()).exists():
        where = settings.describe(index_dir)
        if settings.backend == "embedded":
            _check_index_target(index_dir, seeds_dir)
        click.echo(f"no index in {where}: building it from {seeds_dir} first", err=True)
        for line in render_report(_rebuild(seeds_dir, index_dir, on_message=functools.partial(click.echo, err=True))):
            click.echo(line, err=True)
    from web import create_app
    from web.server import default_workers, serve

    click.echo(f"Serving {settings.describe(index_dir)} on http://{host}:{port}/ (Ctrl+C to stop)", err=True)
    serve(
        lambda: create_app(index_dir=str(index_dir), backend=settings),
        host=host,
        port=port,
        threads=threads,
        workers=workers or default_workers(),
    )


# ---------------------------------------------------------------------------------------------
# Saved queries


def _file_option(func: F) -> F:
    return click.option(
        "--file",
        "file_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default="./saved_queries.toml",
        show_default=True,
        help="Saved-queries TOML file.",
    )(func)


@main.group("saved")
def saved_group() -> None:
    """Named queries kept in a TOML file, for scripts and cron jobs.

    \b
    Example:
        newsearch saved list
        newsearch saved run xiaowei --format json
        newsearch saved run --all --new-only --format jsonl
    """


@saved_group.command("list")
@_file_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_user_errors
def saved_list(file_path: Path, fmt: str) -> None:
    """List the saved queries in the file.

    \b
    Example:
        newsearch saved list --file ./saved_queries.toml
    """
    from dataclasses import asdict

    from search.saved import load_saved_queries

    queries = load_saved_queries(file_path)
    if fmt == "json":
        click.echo(_json([asdict(query) for query in queries.values()]))
        return
    if not queries:
        click.echo(f"no saved queries in {file_path}")
        return
    name_w = max(display_width(name) for name in queries)
    for query in queries.values():
        filters = " ".join(f"{key}={','.join(values)}" for key, values in query.filters.items())
        click.echo(f"{fit(query.name, name_w)}  {query.q!r}  {filters}  sort={query.sort} limit={query.limit}".rstrip())


@saved_group.command("run")
@click.argument("names", nargs=-1, metavar="NAME...")
@click.option("--all", "run_all", is_flag=True, help="Run every query in the file.")
@_file_option
@_index_option
@_backend_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl", "csv"]), default="table", show_default=True)
@click.option("--new-only", is_flag=True, help="Only hits no earlier --new-only run of the query returned.")
@_user_errors
def saved_run(names: tuple[str, ...], run_all: bool, file_path: Path, index_dir: Path, fmt: str, new_only: bool) -> None:
    """Run saved queries by name (or --all).

    With --new-only, hits returned by an earlier --new-only run of the same query are left out, and
    the ones returned now are remembered (in saved_state.json beside the index; for Solr, in
    INDEX/solr-COLLECTION/).

    \b
    Example:
        newsearch saved run xiaowei
        newsearch saved run --all --new-only --format jsonl >> new_hits.jsonl
    """
    from search.saved import load_saved_queries, run_saved, select_queries

    queries = select_queries(load_saved_queries(file_path), names, run_all)
    results = run_saved(_open_archive(index_dir), queries, new_only=new_only)
    if fmt == "json":
        click.echo(_json([result.to_dict() for result in results]))
    elif fmt == "jsonl":
        for result in results:
            click.echo(_json(result.to_dict(), indent=None))
    elif fmt == "csv":
        rows = ((result.query, hit) for result in results for hit in result.response.results)
        click.echo(render_csv(rows, with_query=True))
    else:
        blocks = []
        for result in results:
            filters = " ".join(f"{key}={','.join(values)}" for key, values in result.query.filters.items())
            title = " ".join(part for part in (f"== {result.query.name}:", result.query.q, filters) if part)
            title += " (new only)" if new_only else ""
            if new_only and not result.response.results:
                # Facet counts here would be those of hits returned before: say what happened instead.
                since = f"自上次运行（{result.previous_run}）以来" if result.previous_run else "（这是第一次运行）"
                blocks.append(f"{title}\n没有新文章{since}。")
                continue
            blocks.append(title + "\n" + render_table(result.response, color=sys.stdout.isatty(), facets=not new_only))
        click.echo("\n\n".join(blocks))


if __name__ == "__main__":
    main()  # `python -m search.cli` as well as `python -m search` and `newsearch`
