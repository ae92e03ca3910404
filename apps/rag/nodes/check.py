"""check: did enough of the answer hold up against its sources? Each sentence's support score is traced.

Unsupported sentences were already dropped while streaming; here the answer as a whole is judged.
In auto mode, too little left means the extractive answer follows what was shown.
"""

from langgraph.runtime import Runtime

from apps.rag.components import answer_mode_for
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced


def verdict(checks: list[dict], configuration: RagConfiguration) -> tuple[bool, str]:
    kept = sum(c["kept"] for c in checks)
    if not checks:
        return False, "the model wrote no whole sentence"
    share = kept / len(checks)
    if kept < configuration.min_supported_sentences or share < configuration.min_supported_share:
        return False, f"{kept} of {len(checks)} sentences are supported by their sources: too little"
    return True, f"{kept} of {len(checks)} sentences are supported by their sources"


@traced("check")
async def check(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    checks = state.get("checks") or []
    enough, reason = verdict(checks, configuration)
    mode = answer_mode_for(configuration)
    step = "postprocess" if enough or mode == "generate" else "extract"
    if step == "extract":
        reason += "; the author's passages are quoted"
    return {
        "step": step,
        "answer_kind": "generated" if step == "postprocess" else ("mixed" if state.get("answer") else "extractive"),
        "span": {
            "input_size": len(checks),
            "scores": [c["score"] for c in checks],
            "details": {
                "kept": enough,
                "reason": reason,
                "threshold": configuration.support_threshold,
                "method": configuration.support_method,
                "sentences": checks,
            },
        },
    }
