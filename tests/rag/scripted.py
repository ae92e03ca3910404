"""Scripted components for control-flow tests of the graph: they answer what the test wrote, instantly."""

from collections.abc import Iterator

from apps.rag.providers import Generation


class ScriptedProvider:
    """Replies with ``reply`` to every non-streamed call (condense, expand, reformulate) and streams ``answer``."""

    def __init__(self, *, answer: str = "", reply: str = "", name: str = "local") -> None:
        self.name, self.model = name, f"scripted-{name}"
        self.answer, self.reply = answer, reply
        self.generate_calls: list[list] = []
        self.streamed_pieces = 0

    def generate(self, messages, params) -> Generation:
        self.generate_calls.append(messages)
        return Generation(text=self.reply, model=self.model, completion_tokens=len(self.reply.split()))

    def stream(self, messages, params) -> Iterator[str]:
        for word in self.answer.split(" "):
            self.streamed_pieces += 1
            yield word + " "

    def served(self, adapter: str) -> str:
        """What answers a request for adapter, as the real providers name it: the adapter, or the model."""
        return adapter or self.model

    def count_tokens(self, text: str) -> int:
        return len(text.split())


class ScriptedReranker:
    """Gives every candidate the score of its call: the first call's, then the second's, and so on."""

    model_id = "scripted-reranker"

    def __init__(self, *per_call: float) -> None:
        self.per_call, self.calls = list(per_call), 0

    def score(self, query: str, texts: list[str]) -> list[float]:
        score = self.per_call[min(self.calls, len(self.per_call) - 1)]
        self.calls += 1
        return [score - i * 0.01 for i in range(len(texts))]
