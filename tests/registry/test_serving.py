"""Serving the production model: the local provider follows promotions; TGI serves the promoted directory."""

import json
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from huggingface_hub import constants as hub_constants

from apps.rag.providers import ChatMessage, GenerationParams, provider_from_settings
from apps.rag.providers.local import LocalProvider
from apps.registry.serving import production_model_path
from tests.rag.servers import serve_chat
from tests.registry.metrics import evaluated

pytestmark = pytest.mark.django_db

QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one word.")]
GREEDY = GenerationParams(max_tokens=12)


@pytest.fixture
def local_settings(settings, models_dir):
    settings.LLM_PROVIDER = "local"
    settings.LOCAL_MODEL_PATH = ""
    return settings


def test_the_local_provider_serves_production_and_notices_a_promotion(local_settings, make_version, smollm2_dir):
    make_version("sft-v1", evaluation=evaluated(10.0, 0.7), real=True)
    make_version("dpo-v1", evaluation=evaluated(9.0, 0.7), real=True)
    packaged = provider_from_settings()
    assert packaged.model == str(smollm2_dir)  # nothing promoted yet: the packaged model

    call_command("promote_model", "--model", "sft-v1")
    first = provider_from_settings()
    answer = first.generate(QUESTION, GREEDY)

    assert first.model == str(Path(local_settings.MODELS_DIR) / "sft-v1") and answer.model == first.model
    assert "Paris" in answer.text
    assert provider_from_settings() is first  # loaded once while production stays

    call_command("promote_model", "--model", "dpo-v1")
    second = provider_from_settings()

    assert second is not first and second.model == str(Path(local_settings.MODELS_DIR) / "dpo-v1")
    local_settings.LOCAL_MODEL_PATH = str(smollm2_dir)  # an explicit setting wins over the registry
    assert provider_from_settings().model == str(smollm2_dir)


def test_tgi_provider_chats_with_the_promoted_model_through_a_tgi_api_server(settings, make_version, monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    make_version("dpo-v1", evaluation=evaluated(9.0, 0.7), real=True)
    call_command("promote_model", "--model", "dpo-v1")
    promoted = production_model_path()  # what TGI's --model-id /models/production opens
    served = LocalProvider(promoted, cache_dir=Path(settings.MODEL_CACHE_DIR))
    expected = served.generate(QUESTION, GREEDY)

    with serve_chat(served, flavour="tgi") as tgi:
        settings.LLM_PROVIDER, settings.TGI_URL = "tgi", tgi.base_url
        provider = provider_from_settings()
        generation = provider.generate(QUESTION, GREEDY)
        with urllib.request.urlopen(f"{tgi.base_url}/info", timeout=5) as response:
            info = json.load(response)

    assert provider.name == "tgi"
    assert generation.text == expected.text and "Paris" in generation.text
    assert info["model_id"] == str(Path(settings.MODELS_DIR) / "dpo-v1")
    assert tgi.requests[-1]["messages"] == [{"role": "user", "content": QUESTION[0].content}]
