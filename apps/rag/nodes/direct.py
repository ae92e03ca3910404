"""direct: a reply without retrieval, to a greeting, thanks, or a question about the twin itself."""

from asgiref.sync import sync_to_async
from langgraph.runtime import Runtime

from apps.rag import prompts
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState, readable_authors
from apps.rag.tracing import traced
from apps.sources.selectors import author_find, author_profiles


def _profiles(author: str | None, readable: tuple[int, ...] | None):
    """Who the twin speaks for, among the authors the caller may read (one they may not reads as unknown)."""
    if author:
        found = author_find(name=author)
        return author_profiles(author_ids=[found.pk]) if found and (readable is None or found.pk in readable) else []
    return author_profiles(author_ids=readable)


def about_twin(profiles) -> str:
    if not profiles:
        return prompts.ABOUT_TWIN.format(authors="an author whose writing has not been added yet")
    lines = [prompts.ABOUT_TWIN.format(authors=" and ".join(p.name for p in profiles))]
    lines += [prompts.ABOUT_TWIN_BIO.format(name=p.name, bio=p.bio) for p in profiles if p.bio]
    titles = [f"“{t}”" for p in profiles for t in p.titles]
    if titles:
        lines.append(prompts.ABOUT_TWIN_TOPICS.format(titles=", ".join(titles)))
    return "\n".join(lines)


@traced("direct")
async def direct(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    route = state.get("route")
    if route == "greeting":
        answer = prompts.GREETING
    elif route == "thanks":
        answer = prompts.THANKS
    else:
        answer = about_twin(await sync_to_async(_profiles)(state.get("author"), readable_authors(state)))
    runtime.stream_writer({"token": answer})
    return {"answer": answer, "answer_kind": "direct", "citations": [], "span": {"details": {"route": route}}}
