"""A remote model backend that drops the connection part-way through a streamed answer (tests/chat/backend.py)."""

import pytest

from apps.rag.providers import ChatMessage, GenerationParams, ProviderUnavailable
from apps.rag.providers.openai_compatible import OpenAICompatibleProvider
from apps.rag.providers.tgi import TGIProvider
from tests.chat.backend import ScriptedBackend, serve_backend

ANSWER = "The dough proofs overnight in the fridge and bakes in a cast iron pot."


def _provider(flavour: str, base_url: str):
    if flavour == "tgi":
        return TGIProvider(base_url, timeout_s=5)
    return OpenAICompatibleProvider(f"{base_url}/v1", api_key="sk-test-secret", model="twin", timeout_s=5)


@pytest.mark.parametrize("flavour", ["tgi", "openai"])
def test_the_deltas_before_the_drop_arrive_then_the_backend_is_unavailable(flavour):
    with serve_backend(ScriptedBackend(answer=ANSWER, drop_after=5)) as backend:
        provider = _provider(flavour, backend.base_url)
        received: list[str] = []
        with pytest.raises(ProviderUnavailable) as failure:
            for delta in provider.stream([ChatMessage("user", "When does it proof?")], GenerationParams()):
                received.append(delta)

    assert "".join(received) == "The dough proofs overnight in"
    assert "cannot be reached" in str(failure.value) and backend.base_url in str(failure.value)
    assert "sk-test-secret" not in str(failure.value)
