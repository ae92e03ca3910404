"""Writes to documents and chunks."""

from django.db import transaction
from django.db.models import QuerySet

from apps.core.errors import TwinsiteError
from apps.documents.models import Document


@transaction.atomic
def documents_curate(*, documents: QuerySet[Document], state: str, reason: str = "") -> int:
    """Include or exclude documents; an exclusion needs a reason. Returns how many changed."""
    reason = reason.strip()
    if state == Document.Curation.EXCLUDED and not reason:
        raise TwinsiteError("Say why the documents are excluded: the reason is required.")
    if state not in Document.Curation.values:
        raise TwinsiteError(f"Unknown curation state {state!r}.")
    return documents.update(
        curation_state=state, exclusion_reason=reason if state == Document.Curation.EXCLUDED else ""
    )
