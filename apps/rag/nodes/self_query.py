"""self_query: filters stated in the question (author, platform, dates), matched against known rows only."""

from asgiref.sync import sync_to_async
from langgraph.runtime import Runtime

from apps.rag.configuration import RagConfiguration
from apps.rag.query_filters import filters_extract
from apps.rag.state import RagState, readable_authors
from apps.rag.tracing import traced


@traced("self_query")
async def self_query(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    question = state.get("standalone_question") or state["question"]
    filters = await sync_to_async(filters_extract, thread_sensitive=False)(
        question=question, author=state.get("author"), readable_author_ids=readable_authors(state)
    )
    return {"filters": filters, "span": {"input_size": len(question), "details": {"filters": filters}}}
