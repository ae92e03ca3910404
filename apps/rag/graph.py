"""The RAG graph: rewrite -> self_query -> retrieve -> rerank -> generate -> postprocess.

``search_graph`` is its retrieval half (self_query -> retrieve -> rerank), for search without generation.
"""

from langgraph.graph import END, START, StateGraph

from apps.rag.configuration import RagConfiguration
from apps.rag.nodes.generate import generate
from apps.rag.nodes.postprocess import postprocess
from apps.rag.nodes.rerank import rerank
from apps.rag.nodes.retrieve import retrieve
from apps.rag.nodes.rewrite import rewrite
from apps.rag.nodes.self_query import self_query
from apps.rag.state import RagState

NODES = [
    ("rewrite", rewrite),
    ("self_query", self_query),
    ("retrieve", retrieve),
    ("rerank", rerank),
    ("generate", generate),
    ("postprocess", postprocess),
]


def _chain(nodes: list[tuple[str, object]], name: str):
    builder = StateGraph(RagState, context_schema=RagConfiguration)
    for node_name, node in nodes:
        builder.add_node(node_name, node)
    builder.add_edge(START, nodes[0][0])
    for (first, _), (second, _) in zip(nodes, nodes[1:], strict=False):
        builder.add_edge(first, second)
    builder.add_edge(nodes[-1][0], END)
    return builder.compile(name=name)


graph = _chain(NODES, "twin_rag")
search_graph = _chain(NODES[1:4], "twin_search")
