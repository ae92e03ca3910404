import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.documents.models import Document
from tests.factories import make_chunk, make_document

pytestmark = pytest.mark.django_db


def test_one_document_per_source_and_url():
    document = make_document()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_document(source=document.source, url=document.url)


def test_one_chunk_per_document_and_ordinal():
    chunk = make_chunk()
    with pytest.raises(IntegrityError), transaction.atomic():
        make_chunk(document=chunk.document, ordinal=chunk.ordinal)


def test_an_exclusion_needs_a_reason():
    document = make_document()
    document.curation_state = Document.Curation.EXCLUDED
    with pytest.raises(ValidationError) as excinfo:
        document.full_clean()
    assert "exclusion_reason" in excinfo.value.message_dict
    document.exclusion_reason = "Off topic"
    document.full_clean()


def test_embedding_dimension_is_enforced_by_the_database():
    with pytest.raises(Exception, match="expected 384 dimensions"), transaction.atomic():
        make_chunk(embedding=[0.1, 0.2, 0.3])
