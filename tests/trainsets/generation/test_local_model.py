"""own_text generation with the real packaged SmolLM2 on a small crawled blog, through generate_datasets --sync."""

import json

import pytest
from django.core.management import call_command

from apps.documents.models import Document
from apps.documents.services import documents_curate
from apps.trainsets.models import InstructionSample, PreferencePair
from apps.trainsets.quality import words
from tests.rag.corpus import POSTS, crawl_corpus
from tests.rag.servers import session_model_cache, shared_local_provider
from tests.sources.blog import write_blog

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def local(monkeypatch, tmp_path_factory):
    """The session's one SmolLM2 (converted and loaded once), as LLM_PROVIDER=local would build it."""
    provider = shared_local_provider(session_model_cache(tmp_path_factory))
    monkeypatch.setattr("apps.trainsets.generation.services.provider_from_settings", lambda name=None: provider)
    return provider


def generate(capsys) -> dict:
    call_command(
        "generate_datasets", "--author", "Ada Example", "--limit", "2", "--sync", "--json", "--max-tokens", "24"
    )
    return json.loads(capsys.readouterr().out)


def test_own_text_generation_with_the_packaged_model_makes_valid_samples_and_pairs(
    local, tmp_path, serve_dir, crawl_settings, capsys
):
    write_blog(tmp_path / "blog", {slug: POSTS[slug] for slug in ("backups", "sourdough")})
    crawl_corpus(tmp_path / "blog", serve_dir(tmp_path / "blog"))
    # The curator keeps the posts and leaves out the blog's index page, a list of links.
    documents_curate(documents=Document.objects.filter(url__endswith="/index.html"), state="excluded", reason="links")

    counts = generate(capsys)

    assert (counts["status"], counts["extracts_total"], counts["extracts_done"]) == ("succeeded", 2, 2)
    samples = list(InstructionSample.objects.filter(review="pending").select_related("document"))
    assert len(samples) >= 1 and counts["samples_created"] == len(samples)
    assert counts["samples_created"] + sum(counts["dropped"].values()) >= 2  # every extract accounted for
    paragraphs = {p for _, body in POSTS.values() for p in body}
    for sample in samples:
        assert 3 <= len(words(sample.instruction)) <= 80 and "\n" not in sample.instruction
        assert sample.answer == sample.extract and sample.model == local.model
        assert any(p in sample.answer for p in paragraphs)  # the author's own words, verbatim
        assert {c.document_id for c in sample.chunks.all()} == {sample.document_id}
        pair = PreferencePair.objects.get(sample=sample)
        assert (pair.prompt, pair.chosen, pair.rejected_model) == (sample.instruction, sample.answer, local.model)
        assert pair.rejected.strip() and pair.rejected != pair.chosen

    stored = InstructionSample.objects.count()
    again = generate(capsys)  # only an extract whose output was invalid is tried again; nothing is made twice
    assert again["extracts_total"] == counts["dropped"].get("invalid_output", 0)
    assert InstructionSample.objects.count() == stored + again["samples_created"]
    assert PreferencePair.objects.count() == counts["pairs_created"] + again["pairs_created"]
