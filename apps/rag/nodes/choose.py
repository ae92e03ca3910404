"""choose: generate an answer, or quote the author's passages? By the answer_mode setting, and in auto
mode by the record of what would answer (the all-authors model, or the one author's adapter: each has its
own): a model whose recent answers mostly failed the groundedness check is not asked, except once every
track_record_retry_after answers so that its record can recover (a new model version starts with a clean
record)."""

from asgiref.sync import sync_to_async
from langgraph.runtime import Runtime

from apps.monitoring.selectors import answer_check_record, answers_quoted_since_check
from apps.rag.components import answer_mode_for, answering_model
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced


def mode_from_record(record: list[bool], configuration: RagConfiguration) -> tuple[str, str]:
    """("generate" | "extract", reason) from the model's latest checks, newest first (True: kept)."""
    needed = configuration.track_record_answers
    if len(record) < needed:
        return (
            "generate",
            f"the model has {len(record)} checked answers, fewer than {needed}: it writes, then is checked",
        )
    kept = sum(record[:needed]) / needed
    if kept < configuration.track_record_min_kept:
        return "extract", (
            f"only {kept:.0%} of the model's last {needed} answers held up against their sources "
            f"(needed {configuration.track_record_min_kept:.0%}): the author's passages are quoted"
        )
    return "generate", f"{kept:.0%} of the model's last {needed} answers held up against their sources"


@traced("choose")
async def choose(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    mode = answer_mode_for(configuration)
    details: dict = {"answer_mode": mode}
    if mode == "extract":
        decision, reason = "extract", "answer_mode is extract"
    elif mode == "generate":
        decision, reason = "generate", "answer_mode is generate"
    else:
        model = answering_model(state, configuration)[1]
        record = await sync_to_async(answer_check_record)(model=model, last=configuration.track_record_answers)
        decision, reason = mode_from_record(record, configuration)
        if decision == "extract":
            quoted = await sync_to_async(answers_quoted_since_check)(model=model)
            if quoted >= configuration.track_record_retry_after:
                decision = "generate"
                reason = f"{quoted} answers were quoted since the model was last asked: it is asked again"
        details["model"] = model
    return {
        "answer_mode": decision,
        "step": decision,
        "span": {"details": {**details, "decision": decision, "reason": reason}},
    }
