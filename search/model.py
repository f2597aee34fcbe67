"""The Article: the unit that is extracted, indexed, returned and exported.

Field names are the JSON names (listed in docs/ARCHITECTURE.md); they are a contract for export,
the API and saved-query output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

KINDS = ("news", "photo", "feature")


@dataclass
class Article:
    """One article cut out of a seed page (or read from a structured .jsonl file)."""

    id: str
    source: str
    position: int
    title: str = ""
    kicker: str = ""
    subtitle: str = ""
    body: str = ""
    lead: str = ""
    reporters: list[str] = field(default_factory=list)
    correspondents: list[str] = field(default_factory=list)
    photographers: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    kind: str = "feature"
    date: str | None = None
    year: int | None = None
    month: int | None = None
    section: str | None = None
    paper: str | None = None
    page: str | None = None
    chars: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the article as a JSON-ready dict (the Article's JSON names)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Article":
        """Build an Article from a dict, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def headline(self) -> str:
        """Kicker, title and subtitle joined for display (empty parts dropped)."""
        return " ".join(part for part in (self.kicker, self.title, self.subtitle) if part)
