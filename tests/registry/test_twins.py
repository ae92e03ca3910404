"""Many twins on one model: two authors' LoRA adapters, trained here on the packaged SmolLM2, served side by side.

One pair of adapters is trained per session (``adapters`` in conftest.py: a few steps on a few rows each, so
that they differ and differ from the base), then asked the same question locally, through TGI- and
vLLM-style servers on 127.0.0.1, and promoted one author at a time.
"""

import json
import os
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.management import call_command
from huggingface_hub import constants as hub_constants
from langgraph.runtime import Runtime

from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.generate import generate
from apps.rag.providers import ChatMessage, GenerationParams, provider_from_settings, twin_adapter
from apps.rag.providers.local import LocalProvider
from apps.rag.providers.openai_compatible import OpenAICompatibleProvider
from apps.rag.providers.tgi import TGIProvider
from apps.registry.models import ModelVersion
from lib.packaged_models import packaged_model_dir
from tests.factories import make_author
from tests.rag.scripted import ScriptedProvider
from tests.rag.servers import serve_chat
from tests.registry.metrics import evaluated

pytestmark = pytest.mark.django_db

QUESTION = [ChatMessage("user", "How do you test code?")]
GREEDY = GenerationParams(max_tokens=10)


@pytest.fixture(scope="module")
def served(adapters) -> LocalProvider:
    """One base model in memory, both adapters loaded into it."""
    return LocalProvider(
        cache_dir=Path(django_settings.MODEL_CACHE_DIR),
        adapters={"author-1": adapters["ada"], "author-2": adapters["bob"]},
    )


@pytest.fixture(scope="module")
def answers(served) -> dict[str, str]:
    return {
        name: served.generate(QUESTION, GenerationParams(max_tokens=10, adapter=name)).text
        for name in ("", "author-1", "author-2")
    }


def test_an_authors_training_keeps_its_lora_adapter_and_the_two_adapters_differ(adapters):
    from safetensors.torch import load_file

    files = {author: sorted(p.name for p in path.iterdir()) for author, path in adapters.items()}
    for names in files.values():
        assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= set(names)
        assert "config.json" not in names and "model.safetensors" not in names  # no merged copy
    config = json.loads((adapters["ada"] / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(packaged_model_dir(Path(django_settings.MODEL_CACHE_DIR)))
    ada, bob = (load_file(adapters[a] / "adapter_model.safetensors") for a in ("ada", "bob"))
    assert sorted(ada) == sorted(bob) and len(ada) == 30 * 7 * 2  # A and B of every linear layer of 30 blocks
    assert sum(not ada[k].equal(bob[k]) for k in ada) == len(ada)


def test_the_same_question_asked_as_each_author_gets_a_different_answer(served, answers, adapters):
    assert len(set(answers.values())) == 3  # the base, Ada's twin and Bob's twin
    assert answers["author-1"].startswith("Arr")  # Ada's one sentence, learnt in three steps
    assert served.adapters == {"author-1": str(adapters["ada"]), "author-2": str(adapters["bob"])}
    as_ada = served.generate(QUESTION, GenerationParams(max_tokens=10, adapter="author-1"))
    assert as_ada.model == served.served("author-1") == str(adapters["ada"])
    # Back and forth: switching adapters changes nothing in what each answers.
    assert served.generate(QUESTION, GenerationParams(max_tokens=10, adapter="author-2")).text == answers["author-2"]
    assert served.generate(QUESTION, GREEDY).text == answers[""]
    # An author without an adapter is answered by the default model.
    unknown = served.generate(QUESTION, GenerationParams(max_tokens=10, adapter="author-99"))
    assert (unknown.text, unknown.model) == (answers[""], served.model)


def test_an_adapter_that_cannot_be_loaded_leaves_its_author_to_the_base_and_the_others_served(
    adapters, answers, tmp_path, caplog
):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "adapter_config.json").write_text('{"base_model_name_or_path": "/nowhere/base"}')
    cache = Path(django_settings.MODEL_CACHE_DIR)

    provider = LocalProvider(cache_dir=cache, adapters={"author-1": adapters["ada"], "author-3": broken})
    provider.adapters_update({"author-1": adapters["ada"], "author-3": broken})  # not tried again

    assert provider.adapters == {"author-1": str(adapters["ada"])}
    assert [r.getMessage() for r in caplog.records if "not served" in r.getMessage()] == [
        f"Adapter author-3 is not served: The base model /nowhere/base of the adapter at {broken} is not here."
    ]
    as_ada = GenerationParams(max_tokens=10, adapter="author-1")
    assert provider.generate(QUESTION, as_ada).text == answers["author-1"]
    assert provider.generate(QUESTION, GenerationParams(max_tokens=10, adapter="author-3")).text == answers[""]


def test_evaluation_loads_an_adapter_version_on_its_base(adapters, answers):
    from training.causal_lm import generate_replies, load_model

    twin = load_model(str(adapters["ada"]), field="model")  # what evaluate_model does with an adapter version
    [reply] = generate_replies(twin, [[{"role": "user", "content": QUESTION[0].content}]], max_new_tokens=10)

    assert reply.startswith("Arr") and reply != answers[""]  # Ada's twin, not the bare base


@pytest.mark.parametrize("flavour", ["tgi", "openai"])
def test_remote_providers_ask_for_the_authors_adapter_by_its_served_name(flavour, served, answers, monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # a self-hosted TGI must still be reachable
    with serve_chat(served, flavour=flavour) as server:
        if flavour == "tgi":
            remote = TGIProvider(server.base_url, timeout_s=60)
        else:
            remote = OpenAICompatibleProvider(f"{server.base_url}/v1", api_key="", model="twin", timeout_s=60)
        as_bob = remote.generate(QUESTION, GenerationParams(max_tokens=10, adapter="author-2"))
        streamed = "".join(remote.stream(QUESTION, GenerationParams(max_tokens=10, adapter="author-1")))
        plain = remote.generate(QUESTION, GREEDY)

    sent = [body["model"] for body in server.requests]
    # TGI turns a chat request's model into the adapter_id ("tgi" is its base); vLLM serves a LoRA as a model.
    assert sent == ["author-2", "author-1", "tgi" if flavour == "tgi" else "twin"]
    assert (as_bob.text, streamed, plain.text) == (answers["author-2"], answers["author-1"], answers[""])


def test_promoting_one_authors_adapter_leaves_the_other_authors_twin_as_it_was(settings, tmp_path, adapters, answers):
    settings.MODELS_DIR = tmp_path / "registry"
    settings.LLM_PROVIDER, settings.LOCAL_MODEL_PATH = "local", ""
    ada, bob = make_author(name="Ada"), make_author(name="Bob")

    def version(name: str, author, weights: Path) -> ModelVersion:
        path = settings.MODELS_DIR / name
        path.parent.mkdir(exist_ok=True)
        os.symlink(weights, path)
        return ModelVersion.objects.create(
            name=name, path=str(path), author=author, kind="adapter", metrics={"evaluation": evaluated(9.0, 0.7)}
        )

    version("sft-v1", ada, adapters["ada"])
    bobs = version("sft-v2", bob, adapters["bob"])
    version("sft-v3", ada, adapters["bob"])  # Ada's next version (trained, here, like Bob's)
    call_command("promote_model", "--model", "sft-v1")
    call_command("promote_model", "--model", "sft-v2")
    provider = provider_from_settings()
    as_ada, as_bob = (GenerationParams(max_tokens=10, adapter=f"author-{a.pk}") for a in (ada, bob))
    assert provider.generate(QUESTION, as_ada).text == answers["author-1"]
    bob_pointer = os.readlink(settings.MODELS_DIR / f"production-author-{bob.pk}")
    bobs.refresh_from_db()

    call_command("promote_model", "--model", "sft-v3")

    stages = dict(ModelVersion.objects.values_list("name", "stage"))
    assert stages == {"sft-v1": "archived", "sft-v2": "production", "sft-v3": "production"}
    assert ModelVersion.objects.get(name="sft-v2").promoted_at == bobs.promoted_at
    assert os.readlink(settings.MODELS_DIR / f"production-author-{bob.pk}") == bob_pointer == "sft-v2"
    assert os.readlink(settings.MODELS_DIR / f"production-author-{ada.pk}") == "sft-v3"
    assert not (settings.MODELS_DIR / "production").exists()  # nor is all authors' twin touched
    again = provider_from_settings()
    assert again is provider  # no restart, no reload of the base model
    assert again.generate(QUESTION, as_ada).text == answers["author-2"]  # Ada's new version answers
    assert again.generate(QUESTION, as_bob).text == answers["author-2"]
    assert again.generate(QUESTION, GREEDY).text == answers[""]


def test_the_author_filter_chooses_the_authors_adapter(settings, tmp_path, adapters):
    settings.MODELS_DIR = tmp_path / "registry"
    settings.MODELS_DIR.mkdir()
    ada, bob, cyd = make_author(name="Ada"), make_author(name="Bob"), make_author(name="Cyd")
    os.symlink(adapters["ada"], settings.MODELS_DIR / f"production-author-{ada.pk}")
    merged = settings.MODELS_DIR / "merged"
    merged.mkdir()
    (merged / "config.json").write_text("{}")
    os.symlink(merged, settings.MODELS_DIR / f"production-author-{cyd.pk}")

    assert twin_adapter(author_ids=[ada.pk], provider="tgi") == f"author-{ada.pk}"
    assert twin_adapter(author_ids=[bob.pk], provider="tgi") == ""  # no production version: all authors' twin
    assert twin_adapter(author_ids=[ada.pk, bob.pk], provider="tgi") == ""  # two authors: all authors' twin
    assert twin_adapter(author_ids=[cyd.pk], provider="tgi") == ""  # a merged model is no adapter for TGI
    assert twin_adapter(author_ids=[cyd.pk], provider="local") == f"author-{cyd.pk}"  # the local one serves it

    recorder = _RecordingProvider(answer="Arr.")
    state = {
        "question": "How do you test code?",
        "filters": {"author_ids": [ada.pk], "authors": ["Ada"]},
        "contexts": [{"n": 1, "text": "Arr.", "title": "Post", "author_name": "Ada"}],
    }
    context = RagConfiguration(provider=recorder, support_method="lexical")
    result = async_to_sync(generate)(state, Runtime(context=context, stream_writer=lambda _: None))

    assert recorder.adapters == [f"author-{ada.pk}"]
    span = result["spans"][0]
    assert span["details"]["adapter"] == f"author-{ada.pk}"
    assert result["model"] == span["model"] == f"scripted-local+author-{ada.pk}"  # the trace names the twin


class _RecordingProvider(ScriptedProvider):
    """Streams its scripted answer and records which adapter each streamed call asked for."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.adapters: list[str] = []

    def stream(self, messages, params):
        self.adapters.append(params.adapter)
        return super().stream(messages, params)

    def served(self, adapter: str) -> str:
        return f"{self.model}+{adapter}" if adapter else self.model
