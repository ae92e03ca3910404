"""provider_from_settings: the configured provider, built once per process and configuration."""

import pytest

from apps.rag.providers import ChatMessage, GenerationParams, ProviderUnavailable, provider_from_settings
from apps.rag.providers.local import LocalProvider
from apps.rag.providers.openai_compatible import OpenAICompatibleProvider
from apps.rag.providers.tgi import TGIProvider
from lib.errors import ConfigurationError
from lib.packaged_models import CONVERTED_NAME
from tests.rag.servers import serve_chat, session_model_cache, shared_local_provider

QUESTION = [ChatMessage("user", "What is the capital of France? Answer in one word.")]


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return session_model_cache(tmp_path_factory)


@pytest.fixture(scope="module")
def local(model_cache):
    return shared_local_provider(model_cache)


def test_local_provider_serves_the_packaged_model_from_the_cache_and_loads_once(settings, local, model_cache):
    settings.LLM_PROVIDER = "local"
    settings.LOCAL_MODEL_PATH = ""
    settings.MODEL_CACHE_DIR = model_cache

    provider = provider_from_settings()

    assert isinstance(provider, LocalProvider) and provider.name == "local"
    assert provider.model == str(model_cache / CONVERTED_NAME)
    assert provider_from_settings("local") is provider


def test_a_local_model_path_that_does_not_exist_is_unavailable(settings, tmp_path):
    settings.LOCAL_MODEL_PATH = str(tmp_path / "no-model")

    with pytest.raises(ProviderUnavailable, match="does not exist"):
        provider_from_settings("local")


def test_openai_provider_from_settings_answers_and_is_kept(settings, local):
    with serve_chat(local, flavour="openai", api_key="sk-settings-1") as server:
        settings.LLM_PROVIDER = "openai"
        settings.OPENAI_BASE_URL = f"{server.base_url}/v1"
        settings.OPENAI_API_KEY = "sk-settings-1"
        settings.OPENAI_MODEL = "twin-v2"
        settings.LLM_TIMEOUT_S = 30

        provider = provider_from_settings()
        generation = provider.generate(QUESTION, GenerationParams(max_tokens=16))

        assert isinstance(provider, OpenAICompatibleProvider) and provider.name == "openai"
        assert "Paris" in generation.text and server.requests[-1]["model"] == "twin-v2"
        assert provider_from_settings() is provider
        settings.OPENAI_MODEL = "twin-v3"
        assert provider_from_settings().model == "twin-v3"


def test_tgi_provider_from_settings(settings):
    settings.LLM_PROVIDER = "tgi"
    settings.TGI_URL = "http://127.0.0.1:3000"

    provider = provider_from_settings()

    assert isinstance(provider, TGIProvider) and provider.name == "tgi" and provider.model == "http://127.0.0.1:3000"


@pytest.mark.parametrize(("name", "setting"), [("tgi", "TGI_URL"), ("openai", "OPENAI_BASE_URL")])
def test_a_remote_provider_without_its_url_is_a_configuration_error(settings, name, setting):
    setattr(settings, setting, "")

    with pytest.raises(ConfigurationError, match=setting):
        provider_from_settings(name)


def test_an_unknown_provider_name_is_a_configuration_error(settings):
    settings.LLM_PROVIDER = "llamacpp"

    with pytest.raises(ConfigurationError, match="local, tgi, openai"):
        provider_from_settings()
