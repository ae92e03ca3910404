"""The RAG graph: rewrite -> self_query -> retrieve -> rerank -> generate -> postprocess."""

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

builder = StateGraph(RagState, context_schema=RagConfiguration)
for name, node in NODES:
    builder.add_node(name, node)
builder.add_edge(START, NODES[0][0])
for (first, _), (second, _) in zip(NODES, NODES[1:], strict=False):
    builder.add_edge(first, second)
builder.add_edge(NODES[-1][0], END)

graph = builder.compile(name="twin_rag")
