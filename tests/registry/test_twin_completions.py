"""/v1/chat/completions answered by the twin the model id names: each author's production adapter, loaded by the
local provider on the packaged base model, and the all-authors model for ``twin``.

The adapters are the session's pair (``adapters`` in conftest.py), promoted here as each author's production
version; the question runs through the whole RAG graph over one embedded passage per author.
"""

import json
import os

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.chat.keys import api_key_create
from apps.documents import embedding
from apps.documents.models import Document
from apps.monitoring.models import Trace
from apps.registry.models import ModelVersion
from lib.packaged_models import CONVERTED_NAME
from tests.factories import make_author, make_chunk, make_document, make_source
from tests.registry.metrics import evaluated

QUESTION = "How do you test code?"
PASSAGES = {
    "Ada": "How I test code: Arr matey, the sea decides. I run the whole test suite before every commit.",
    "Bob": "How I test code: Quack quack, said the duck. I test code by reading it aloud to a rubber duck.",
}


@pytest.fixture
def twins(settings, tmp_path, adapters, django_user_model) -> dict:
    """Ada and Bob, one embedded passage each, each with their adapter promoted; a key to ask them with."""
    settings.MODELS_DIR = tmp_path / "registry"
    settings.MODELS_DIR.mkdir()
    settings.LLM_PROVIDER, settings.LOCAL_MODEL_PATH = "local", ""
    settings.RAG_ANSWER_MODE, settings.RAG_EXPANSION = "generate", "off"
    authors = {name: make_author(name=name) for name in PASSAGES}
    vectors = embedding.embedder().encode(list(PASSAGES.values()))
    for (name, text), vector in zip(PASSAGES.items(), vectors, strict=True):
        source = make_source(author=authors[name], url=f"https://{name.lower()}.example/")
        document = make_document(source=source, text=text, status=Document.Status.PROCESSED, title=f"{name} on tests")
        make_chunk(document=document, text=text, embedding=vector, embedding_model=embedding.model_id())
    for version, (name, weights) in (("sft-v1", ("Ada", adapters["ada"])), ("sft-v2", ("Bob", adapters["bob"]))):
        os.symlink(weights, settings.MODELS_DIR / version)
        ModelVersion.objects.create(
            name=version,
            path=str(settings.MODELS_DIR / version),
            author=authors[name],
            kind="adapter",
            metrics={"evaluation": evaluated(9.0, 0.7)},
        )
        call_command("promote_model", "--model", version)
    client = APIClient()
    user = django_user_model.objects.create_user(username="sdk-user", password="pw-sdk-1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=user, name='sdk')[1]}")
    return {"api": client, "authors": authors, "models_dir": settings.MODELS_DIR}


def _ask(api: APIClient, model: str, *, stream: bool = False, question: str = QUESTION):
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_completion_tokens": 10}
    return api.post("/v1/chat/completions", {**body, "stream": stream}, format="json")


def _events(response) -> list[dict]:
    """The chunks of a streamed answer, read as the ASGI server would (the view streams asynchronously)."""

    async def read() -> bytes:
        return b"".join([part async for part in response.streaming_content])

    text = async_to_sync(read)().decode()
    data = [line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    return [json.loads(item) for item in data[:-1]]


def _generate_span(trace_id: str):
    return Trace.objects.get(pk=trace_id).spans.get(node="generate")


@pytest.mark.django_db(transaction=True)  # the graph reads the corpus from threads of its own
def test_each_authors_model_id_is_answered_by_that_authors_production_adapter(twins, smollm2_dir):
    api, ada, bob = twins["api"], twins["authors"]["Ada"], twins["authors"]["Bob"]

    as_ada = _ask(api, "twin-ada")
    as_bob = _ask(api, "twin-bob")
    everyone = _ask(api, "twin")
    # All authors' twin asked about one author: the self-query's author filter chooses Bob's adapter.
    about_bob = _ask(api, "twin", question="How does Bob test code?")

    responses = {"ada": as_ada, "bob": as_bob, "all": everyone, "all-about-bob": about_bob}
    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 200)
    answers = {name: r.json() for name, r in responses.items()}
    assert {name: (a["model"], a["system_fingerprint"]) for name, a in answers.items()} == {
        "ada": ("twin-ada", "sft-v1"),
        "bob": ("twin-bob", "sft-v2"),
        "all": ("twin", CONVERTED_NAME),  # no all-authors version promoted: the packaged model answers
        "all-about-bob": ("twin", "sft-v2"),
    }
    spans = {name: _generate_span(a["trace_id"]) for name, a in answers.items()}
    assert {name: (s.model, s.details["adapter"]) for name, s in spans.items()} == {
        "ada": (str(twins["models_dir"] / "sft-v1"), f"author-{ada.pk}"),
        "bob": (str(twins["models_dir"] / "sft-v2"), f"author-{bob.pk}"),
        "all": (str(smollm2_dir), None),
        "all-about-bob": (str(twins["models_dir"] / "sft-v2"), f"author-{bob.pk}"),
    }
    assert Trace.objects.get(pk=answers["ada"]["trace_id"]).model == str(twins["models_dir"] / "sft-v1")
    listed = {m["id"]: m["metadata"]["model_version"] for m in api.get("/v1/models").json()["data"]}
    assert listed == {"twin": CONVERTED_NAME, "twin-ada": "sft-v1", "twin-bob": "sft-v2"}


@pytest.mark.django_db(transaction=True)
def test_a_streamed_answer_names_the_version_that_answered(twins):
    bob = twins["authors"]["Bob"]

    response = _ask(twins["api"], "twin-bob", stream=True)
    about_bob = _ask(twins["api"], "twin", stream=True, question="How does Bob test code?")

    assert response.status_code == about_bob.status_code == 200
    events = _events(response)
    assert {(e["model"], e["system_fingerprint"]) for e in events} == {("twin-bob", "sft-v2")}
    span = _generate_span(events[-1]["trace_id"])
    assert (span.model, span.details["adapter"]) == (str(twins["models_dir"] / "sft-v2"), f"author-{bob.pk}")
    # All authors' twin: the chunks go out before the self-query finds Bob; those after the text name his version.
    streamed = _events(about_bob)
    closing = [e for e in streamed if e["choices"] and e["choices"][0]["finish_reason"]]
    assert (streamed[0]["choices"][0]["delta"]["role"], streamed[0]["system_fingerprint"]) == (
        "assistant",
        CONVERTED_NAME,
    )
    assert [e["system_fingerprint"] for e in closing] == ["sft-v2"]
    assert _generate_span(closing[0]["trace_id"]).details["adapter"] == f"author-{bob.pk}"
