"""A click progress bar behind the indexer's ``progress(done, total, name)`` callback."""

from __future__ import annotations

from typing import Any

import click


class TerminalProgress:
    """Draws a progress bar on stderr; the bar is created on the first call, once the total is known.

    Use as a context manager so the bar is finished (or cleared) however the run ends.
    """

    def __init__(self, label: str = "Indexing") -> None:
        self.label = label
        self._bar: Any = None
        self._done = 0

    def __call__(self, done: int, total: int, name: str) -> None:
        """Advance the bar to ``done`` of ``total`` files, showing the file just indexed."""
        if self._bar is None:
            self._bar = click.progressbar(
                length=total,
                label=self.label,
                file=click.get_text_stream("stderr"),
                item_show_func=lambda item: item,
                show_pos=True,
            )
            self._bar.__enter__()
        self._bar.update(done - self._done, name)
        self._done = done

    def close(self) -> None:
        """Finish the bar (if one was drawn)."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
