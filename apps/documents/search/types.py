"""What a search is limited to (SearchFilters) and what it returns (ChunkHit)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SearchFilters:
    """Limits on which documents' chunks may surface; empty tuples and None mean "no limit".

    The published range is half-open, ``published_after <= published_at < published_before``; a document
    without a publication date is left out as soon as either bound is set.
    """

    author_ids: tuple[int, ...] = ()
    source_ids: tuple[int, ...] = ()
    source_kinds: tuple[str, ...] = ()  # Source.kind values ("article", "github", ...): the "platform"
    published_after: datetime | None = None
    published_before: datetime | None = None
    # The authors the caller may read (apps.sources.selectors.authors_readable): None, any author; (), none.
    # Enforced in every chunk search, whatever the other filters ask for.
    readable_author_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: int
    document_id: int
    text: str
    score: float  # fused RRF score (higher is better)
    dense_rank: int | None  # 1-based rank in the dense list, None if absent
    lexical_rank: int | None  # 1-based rank in the lexical list, None if absent
    similarity: float | None  # cosine similarity to the query embedding (1 - distance), when dense-ranked
    title: str
    url: str
    author_name: str
    published_at: datetime | None
    source_kind: str


NO_FILTERS = SearchFilters()  # the default filters: frozen, so one shared instance is safe
