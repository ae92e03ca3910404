"""evaluate_rag: questions with references, answered through the graph, scored, stored as a monitoring EvalRun."""
