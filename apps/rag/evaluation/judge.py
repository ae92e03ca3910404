"""An optional judge: a model scores each answer against the reference from 1 to 5. Replies it cannot
parse are counted as such, never dropped or guessed."""

import re

from apps.rag.providers import ChatMessage, GenerationParams

JUDGE_SYSTEM = (
    "You grade answers. Compare the answer with the reference answer to the question. Reply with one number "
    "from 1 (wrong or unrelated) to 5 (says what the reference says), and nothing else."
)
JUDGE_USER = "Question: {question}\n\nReference answer: {reference}\n\nAnswer to grade: {answer}\n\nGrade (1-5):"
_GRADE = re.compile(r"^\s*\**\s*([1-5])(?:\s*/\s*5)?\s*\**\s*[.!]?\s*$")


def parse_grade(reply: str) -> int | None:
    match = _GRADE.match(reply.strip().splitlines()[0] if reply.strip() else "")
    return int(match.group(1)) if match else None


def judge(provider, *, question: str, reference: str, answer: str) -> dict:
    messages = [
        ChatMessage("system", JUDGE_SYSTEM),
        ChatMessage("user", JUDGE_USER.format(question=question, reference=reference[:2000], answer=answer[:2000])),
    ]
    reply = provider.generate(messages, GenerationParams(max_tokens=8, temperature=0.0)).text
    return {"score": parse_grade(reply), "reply": reply[:200]}
