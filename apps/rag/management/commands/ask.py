import json
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.rag.providers import ProviderError
from apps.rag.services import rag_answer
from apps.sources.selectors import author_find


class Command(BaseCommand):
    help = "Ask the twin a question; prints the answer with its citations."

    def add_arguments(self, parser) -> None:
        parser.add_argument("question")
        parser.add_argument("--author", help="Only this author's writing (name, alias or handle).")
        parser.add_argument("--json", action="store_true", help="Print answer, citations, filters, queries, timings.")

    def handle(self, *args, question: str, author: str | None, **options) -> None:
        if not question.strip():
            raise CommandError("The question is empty.")
        if author and author_find(name=author) is None:
            raise CommandError(f"No author is called {author!r}; see the authors in the admin.")
        stream = None if options["json"] else (lambda token: (sys.stdout.write(token), sys.stdout.flush()))
        try:
            result = rag_answer(question=question, author=author, on_token=stream)
        except ProviderError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            payload = {
                "answer": result.answer,
                "citations": [
                    {k: c[k] for k in ("document_url", "title", "chunk_id", "score")} for c in result.citations
                ],
                "filters": result.filters,
                "queries": result.queries,
                "timings_ms": result.timings_ms,
                "trace_id": result.trace_id,
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write("")
        for citation in result.citations:
            self.stdout.write(f"[{citation['n']}] {citation['title']} — {citation['document_url']}")
