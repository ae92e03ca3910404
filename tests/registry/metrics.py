"""Evaluation summaries as a version stores them, for tests of the gate."""


def evaluated(perplexity: float, style: float, *, dataset: str = "instruct-v1") -> dict:
    """A version's evaluation summary with the two metrics the gate reads."""
    twin = {"perplexity": perplexity, "style_similarity": style, "function_word_distance": 0.2}
    return {"eval_run": None, "dataset": dataset, "samples": 5, "baseline": "", "twin": twin, "base": {}}
