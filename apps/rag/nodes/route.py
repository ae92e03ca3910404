"""route: what this message needs: a reply without retrieval, the history folded in, and other phrasings or not.

Deterministic rules, each decision with its reason in the span: a rule costs nothing and cannot be
talked out of its job by the message, which a model asked to classify could be.
"""

import re

from langgraph.runtime import Runtime

from apps.rag.components import expansion_for, provider_name
from apps.rag.configuration import RagConfiguration
from apps.rag.state import RagState
from apps.rag.tracing import traced

_GREETING = re.compile(
    r"(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening|day))( there| twin| all| everyone)?", re.I
)
_THANKS = re.compile(
    r"((many |great,? |ok,? |okay,? )?(thanks|thank you|thx|ty|cheers)( a lot| so much| very much| again)?"
    r"( for (that|this|the (answer|help)))?|(that|this) (was |is )?(helpful|great|perfect))",
    re.I,
)
_ABOUT_TWIN = re.compile(
    r"\b(who are you|what are you|who am i (talking|speaking) (to|with)|tell me about yourself|introduce yourself"
    r"|what (do|can) you (do|write about|know about)|what is this twin|are you (a bot|an ai|real|human))\b",
    re.I,
)
# A follow-up leans on the conversation: it opens with a connective, or points back with a pronoun.
_FOLLOW_UP_OPENING = re.compile(r"^(and|but|also|so|then|what about|how about|why( not)?|how come|or)\b", re.I)
_BACK_REFERENCE = re.compile(r"\b(it|its|that|this|these|those|they|them|their|there|he|she|him|her|one)\b", re.I)
_FOLLOW_UP_MAX_WORDS = 12
# A question of at most this many words is keyword-like: full-text search already matches its words.
_KEYWORD_LIKE_WORDS = 3
_TRAILING = " \t\n.!?,;:)(-~*"


def _bare(message: str) -> str:
    return message.strip().strip(_TRAILING).strip()


def classify(message: str, history: list[dict]) -> tuple[str, str]:
    """(route, reason) for a message: greeting, thanks, about_twin, condense or retrieve."""
    bare = _bare(message)
    if _GREETING.fullmatch(bare):
        return "greeting", "a greeting: nothing to look up"
    if _THANKS.fullmatch(bare):
        return "thanks", "thanks: nothing to look up"
    if _ABOUT_TWIN.search(bare):
        return "about_twin", "a question about the twin itself: answered from the author's profile"
    if history:
        words = bare.split()
        if _FOLLOW_UP_OPENING.match(bare):
            return "condense", "a follow-up (opens with a connective): the history is folded in"
        if len(words) <= _FOLLOW_UP_MAX_WORDS and _BACK_REFERENCE.search(bare):
            return "condense", "a follow-up (refers back to the conversation): the history is folded in"
    return "retrieve", "a standalone question"


def expansion_decision(question: str, *, mode: str, provider: str) -> tuple[bool, str]:
    """Whether to ask the model for other phrasings of this question, and why."""
    if mode == "on":
        return True, "expansion forced on"
    if mode == "off":
        return False, "expansion forced off"
    if provider == "local":
        return False, "the in-process model's phrasings were answers and code, not questions: not asked"
    if len(question.split()) <= _KEYWORD_LIKE_WORDS:
        return False, "a keyword-like question: full-text search already matches its words"
    return True, f"a conversational question and a {provider} model: validated phrasings widen the search"


@traced("route")
async def route(state: RagState, runtime: Runtime[RagConfiguration]) -> dict:
    configuration = runtime.context
    question = state["question"].strip()
    if configuration.route:
        decision, reason = classify(question, state.get("history") or [])
    else:
        decision, reason = "retrieve", "routing turned off"
    expand, expand_reason = expansion_decision(
        question, mode=expansion_for(configuration), provider=provider_name(configuration)
    )
    needs_retrieval = decision in ("retrieve", "condense")
    details = {"route": decision, "reason": reason}
    if needs_retrieval:
        details |= {"expand": expand, "expand_reason": expand_reason}
    return {
        "route": decision,
        "expand": expand and needs_retrieval,
        "standalone_question": question,
        "queries": [question],
        "round": 0,
        "span": {"input_size": len(question), "details": details},
    }
