"""What POST /v1/chat/completions accepts, validated at the edge; every refusal names its param.

Parameters the twin cannot honour (tools, several choices, log probabilities, images, …) are refused with
a 400 rather than ignored, so a client never believes it got what it did not. Parameters that change
nothing about the answer (``seed``, ``metadata``, ``store``…) are ignored, as OpenAI-compatible servers do.
System messages are accepted and not used: the twin keeps its own instructions.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from apps.rag.configuration import RagConfiguration

MAX_TOKENS_LIMIT = 1024  # as /api/v1/chat
QUESTION_LIMIT = 4000  # as /api/v1/chat's message
MESSAGE_LIMIT = 32000
MAX_MESSAGES = 200
UNSUPPORTED = "unsupported_parameter"
_TURN_ROLES = {"user", "assistant"}  # system and developer messages are not the twin's to obey
# param -> the value that means "not used" (None: any value is refused)
_REFUSED = {
    "tools": [],
    "tool_choice": "none",
    "functions": [],
    "function_call": "none",
    "logprobs": False,
    "top_logprobs": 0,
    "logit_bias": {},
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "response_format": {"type": "text"},
    "audio": None,
    "modalities": ["text"],
    "prediction": None,
    "web_search_options": None,
}
_WHY = {
    "tools": "a twin answers from its sources and calls no tools",
    "tool_choice": "a twin calls no tools",
    "functions": "a twin calls no functions",
    "function_call": "a twin calls no functions",
}


def _unsupported(message: str) -> serializers.ValidationError:
    return serializers.ValidationError(message, code=UNSUPPORTED)


def _unsupported_at(param: str | int, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({param: [ErrorDetail(message, code=UNSUPPORTED)]})


_TEXT_PART = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}},
    "required": ["type", "text"],
}


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "array", "items": _TEXT_PART}]})
class ContentField(serializers.Field):
    """A message's content: a string, or a list of parts of which only text ones are supported."""

    def to_internal_value(self, data) -> str:
        if isinstance(data, str):
            return data
        if not isinstance(data, list):
            raise serializers.ValidationError("Give the content as a string or a list of text parts.")
        texts = []
        for index, part in enumerate(data):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text" or not isinstance(part.get("text"), str):
                what = f"{kind!r} parts" if kind else "parts that are not text"
                raise _unsupported_at(index, f"Only text is supported, not {what}.")
            texts.append(part["text"])
        return "\n".join(texts)

    def to_representation(self, value) -> str:
        return value


class MessageInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OpenAIMessageInput"

    role = serializers.CharField(help_text="system, developer, user or assistant")
    content = ContentField(allow_null=True)
    name = serializers.CharField(required=False, max_length=256)

    def validate_role(self, role: str) -> str:
        if role in {"tool", "function"}:
            raise _unsupported(f"{role} messages answer tool calls, and a twin calls no tools.")
        if role not in {"system", "developer", "user", "assistant"}:
            raise serializers.ValidationError(f"{role!r} is not a role: use system, user or assistant.")
        return role

    def to_internal_value(self, data) -> dict:
        if isinstance(data, dict) and (data.get("tool_calls") or data.get("function_call")):
            raise _unsupported_at("tool_calls", "A twin calls no tools.")
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        if attrs["content"] is None or (attrs["role"] == "user" and not attrs["content"].strip()):
            raise serializers.ValidationError({"content": ["Give the message some text."]})
        if len(attrs["content"]) > MESSAGE_LIMIT:
            raise serializers.ValidationError({"content": [f"At most {MESSAGE_LIMIT} characters."]})
        return attrs


class StreamOptionsSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OpenAIStreamOptions"

    include_usage = serializers.BooleanField(default=False)


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4}]}
)
class StopField(serializers.Field):
    def to_internal_value(self, data) -> list[str]:
        stops = [data] if isinstance(data, str) else data
        if not isinstance(stops, list) or not all(isinstance(s, str) and 0 < len(s) <= 100 for s in stops):
            raise serializers.ValidationError("Give a string or a list of strings of 1 to 100 characters.")
        if len(stops) > 4:
            raise serializers.ValidationError("At most 4 stop sequences.")
        return stops

    def to_representation(self, value) -> list[str]:
        return value


class CompletionInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChatCompletionInput"

    model = serializers.CharField(max_length=200, help_text="A model id from GET /v1/models.")
    messages = serializers.ListField(child=MessageInputSerializer(), min_length=1, max_length=MAX_MESSAGES)
    stream = serializers.BooleanField(default=False)
    stream_options = StreamOptionsSerializer(required=False, allow_null=True)
    max_tokens = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_TOKENS_LIMIT)
    max_completion_tokens = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_TOKENS_LIMIT
    )
    temperature = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=2)
    top_p = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=1)
    stop = StopField(required=False, allow_null=True)
    n = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    user = serializers.CharField(required=False, allow_blank=True, max_length=256)
    sources_in_content = serializers.BooleanField(
        default=True, help_text="Not OpenAI's: false leaves the sources list out of the content."
    )

    def validate_n(self, n: int | None) -> int | None:
        if n not in (None, 1):
            raise _unsupported("Only n=1 is supported: a twin gives one answer.")
        return n

    def validate_top_p(self, top_p: float | None) -> float | None:
        if top_p == 0:
            raise serializers.ValidationError("Ensure this value is greater than 0.")
        return top_p

    def validate(self, attrs: dict) -> dict:
        for param, unused in _REFUSED.items():
            if param in self.initial_data and self.initial_data[param] not in (None, unused):
                why = _WHY.get(param, "this API does not support it")
                raise _unsupported_at(param, f"Not supported: {why}.")
        if attrs.get("stream_options") and not attrs["stream"]:
            raise serializers.ValidationError({"stream_options": ["Only allowed when stream is true."]})
        messages = attrs["messages"]
        last = len(messages) - 1
        if messages[last]["role"] != "user":
            raise serializers.ValidationError({"messages": {last: {"role": ["The last message must be the user's."]}}})
        if len(messages[last]["content"]) > QUESTION_LIMIT:
            error = f"The question is at most {QUESTION_LIMIT} characters."
            raise serializers.ValidationError({"messages": {last: {"content": [error]}}})
        turns = [{"role": m["role"], "content": m["content"]} for m in messages[:last] if m["role"] in _TURN_ROLES]
        options = attrs.get("stream_options") or {}
        return {
            **attrs,
            "earlier": turns,
            "question": messages[last]["content"].strip(),
            "max_tokens": attrs.get("max_completion_tokens") or attrs.get("max_tokens") or RagConfiguration.max_tokens,
            "temperature": attrs.get("temperature") or 0.0,
            "top_p": attrs.get("top_p") or 1.0,
            "stop": attrs.get("stop") or [],
            "include_usage": bool(options.get("include_usage")),
        }
