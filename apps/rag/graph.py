"""The agentic RAG graph. Every decision is made by a node, which traces its reason; edges only follow it.

    route --(greeting, thanks, about the twin)--> direct
      |--(follow-up)--> condense --+
      +----------------------------+--(expand?)--> expand --+
                                   +------------------------+--> self_query --> retrieve --> rerank --> grade
    grade --(weak, rounds left)--> reformulate --> retrieve ...   (at most corrective_rounds more)
    grade --(weak, none left)--> no_answer
    grade --(good)--> choose --(generate)--> generate --> check --(enough holds)--> postprocess
                        |                                   +--(too little)--> extract --> postprocess
                        +--(extract)--> extract

``search_graph`` is its retrieval half (self_query -> retrieve -> rerank), for search without generation.
"""

from langgraph.graph import END, START, StateGraph

from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.check import check
from apps.rag.nodes.choose import choose
from apps.rag.nodes.condense import condense
from apps.rag.nodes.direct import direct
from apps.rag.nodes.expand import expand
from apps.rag.nodes.extract import extract
from apps.rag.nodes.generate import generate
from apps.rag.nodes.grade import grade
from apps.rag.nodes.no_answer import no_answer
from apps.rag.nodes.postprocess import postprocess
from apps.rag.nodes.reformulate import reformulate
from apps.rag.nodes.rerank import rerank
from apps.rag.nodes.retrieve import retrieve
from apps.rag.nodes.route import route
from apps.rag.nodes.self_query import self_query
from apps.rag.state import RagState


def after_route(state: RagState) -> str:
    if state["route"] in ("greeting", "thanks", "about_twin"):
        return "direct"
    if state["route"] == "condense":
        return "condense"
    return after_condense(state)


def after_condense(state: RagState) -> str:
    return "expand" if state.get("expand") else "self_query"


def follow_step(state: RagState) -> str:
    return state["step"]


def _build_graph():
    builder = StateGraph(RagState, context_schema=RagConfiguration)
    for node in (route, condense, expand, self_query, retrieve, rerank, grade, reformulate, no_answer, choose):
        builder.add_node(node.__name__, node)
    for node in (generate, check, extract, postprocess, direct):
        builder.add_node(node.__name__, node)
    builder.add_edge(START, "route")
    builder.add_conditional_edges("route", after_route, ["direct", "condense", "expand", "self_query"])
    builder.add_conditional_edges("condense", after_condense, ["expand", "self_query"])
    builder.add_edge("expand", "self_query")
    builder.add_edge("self_query", "retrieve")
    builder.add_edge("retrieve", "rerank")
    builder.add_edge("rerank", "grade")
    builder.add_conditional_edges(
        "grade", follow_step, {"answer": "choose", "reformulate": "reformulate", "no_answer": "no_answer"}
    )
    builder.add_edge("reformulate", "retrieve")
    builder.add_conditional_edges("choose", follow_step, ["generate", "extract"])
    builder.add_edge("generate", "check")
    builder.add_conditional_edges("check", follow_step, ["postprocess", "extract"])
    builder.add_edge("extract", "postprocess")
    builder.add_edge("postprocess", END)
    builder.add_edge("no_answer", END)
    builder.add_edge("direct", END)
    return builder.compile(name="twin_rag")


def _build_search_graph():
    builder = StateGraph(RagState, context_schema=RagConfiguration)
    for node in (self_query, retrieve, rerank):
        builder.add_node(node.__name__, node)
    builder.add_edge(START, "self_query")
    builder.add_edge("self_query", "retrieve")
    builder.add_edge("retrieve", "rerank")
    builder.add_edge("rerank", END)
    return builder.compile(name="twin_search")


graph = _build_graph()
search_graph = _build_search_graph()
