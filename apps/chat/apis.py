"""The chat REST API, one view per operation, under /api/v1/."""

import json

from asgiref.sync import async_to_sync
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chat import selectors, services
from apps.chat.models import ApiKey, Conversation
from apps.rag.configuration import RagConfiguration
from apps.rag.services import rag_search
from apps.sources.selectors import author_find, authors_readable, readable_author_ids


class ErrorSerializer(serializers.Serializer):
    class Body(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        field = serializers.CharField(required=False)

    error = Body()


class CitationSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    document_url = serializers.CharField()
    title = serializers.CharField()
    score = serializers.FloatField()
    cited = serializers.BooleanField()


def _known_author(name: str | None, *, user) -> str | None:
    """The name, if it is an author the user may talk to; one they may not reads as one that does not exist.

    Returned as the author's own name, so conversations record who they were about whatever was typed.
    """
    if name:
        author = author_find(name=name)
        if author is None or not authors_readable(user=user).filter(pk=author.pk).exists():
            raise serializers.ValidationError({"author": [f"No author is called {name!r}."]})
        return author.name
    return name


class EventStreamRenderer(renderers.BaseRenderer):
    """Lets SSE clients send ``Accept: text/event-stream``; an error before the stream is one error event."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


class ChatApi(APIView):
    throttle_scope = "chat"
    required_scope = "chat"
    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChatInput"

        message = serializers.CharField(max_length=4000)
        conversation_id = serializers.UUIDField(required=False)
        author = serializers.CharField(required=False, max_length=200)
        stream = serializers.BooleanField(default=False)
        max_tokens = serializers.IntegerField(required=False, min_value=1, max_value=1024)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChatAnswer"

        answer = serializers.CharField()
        citations = CitationSerializer(many=True)
        conversation_id = serializers.UUIDField()
        message_id = serializers.IntegerField()
        trace_id = serializers.UUIDField()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OpenApiResponse(OutputSerializer, description="The answer; with stream=true, Server-Sent Events."),
            400: ErrorSerializer,
            404: ErrorSerializer,
            503: OpenApiResponse(ErrorSerializer, description="The model backend is down; see Retry-After."),
        },
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        author = _known_author(fields.get("author"), user=request.user)
        conversation = None
        if "conversation_id" in fields:
            conversation = selectors.conversation_of(user=request.user, conversation_id=fields["conversation_id"])
        # A session is someone on the site's pages (the chat page, the playground); a key is an application.
        channel = Conversation.Channel.API if isinstance(request.auth, ApiKey) else Conversation.Channel.WEB
        turn = services.chat_turn_start(
            user=request.user, message=fields["message"], conversation=conversation, author=author, channel=channel
        )
        configuration = RagConfiguration(max_tokens=fields.get("max_tokens", RagConfiguration.max_tokens))
        if fields["stream"]:
            events = services.chat_reply_events(turn=turn, configuration=configuration)
            response = StreamingHttpResponse(events, content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # no proxy buffering: tokens reach the client as they come
            return response
        answer, result = services.chat_reply(turn=turn, configuration=configuration)
        return Response(services.chat_payload(turn=turn, answer=answer, result=result))


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    content = serializers.CharField()
    citations = serializers.JSONField()
    incomplete = serializers.BooleanField(
        help_text="An answer cut short (the model backend failed, or the client left): what was written so far."
    )
    created_at = serializers.DateTimeField()


class ConversationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    author_name = serializers.CharField()
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ConversationListApi(APIView):
    required_scope = "chat"

    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(
            choices=Conversation.Channel.values, required=False, help_text="Only those held through this channel."
        )

    @extend_schema(
        parameters=[InputSerializer], responses={200: ConversationSerializer(many=True), 400: ErrorSerializer}
    )
    def get(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        conversations = selectors.conversations_of(user=request.user, **data.validated_data)[:200]
        return Response(ConversationSerializer(conversations, many=True).data)


class ConversationDetailApi(APIView):
    required_scope = "chat"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ConversationRename"

        title = serializers.CharField(max_length=200)

    class OutputSerializer(ConversationSerializer):
        class Meta:
            ref_name = "ConversationDetail"

        messages = MessageSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer, 404: ErrorSerializer})
    def get(self, request: Request, conversation_id) -> Response:
        conversation = selectors.conversation_of(user=request.user, conversation_id=conversation_id)
        messages = selectors.messages_shown(conversation=conversation, user=request.user)
        return Response(
            {**ConversationSerializer(conversation).data, "messages": MessageSerializer(messages, many=True).data}
        )

    @extend_schema(
        request=InputSerializer, responses={200: ConversationSerializer, 400: ErrorSerializer, 404: ErrorSerializer}
    )
    def patch(self, request: Request, conversation_id) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = selectors.conversation_of(user=request.user, conversation_id=conversation_id)
        conversation = services.conversation_rename(conversation=conversation, title=data.validated_data["title"])
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, conversation_id) -> Response:
        conversation = selectors.conversation_of(user=request.user, conversation_id=conversation_id)
        services.conversation_delete(conversation=conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SearchApi(APIView):
    throttle_scope = "search"
    required_scope = "search"

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=1000)
        author = serializers.CharField(required=False, max_length=200)
        k = serializers.IntegerField(default=5, min_value=1, max_value=50, help_text="How many chunks to return.")

    class ResultSerializer(serializers.Serializer):
        class DocumentSerializer(serializers.Serializer):
            url = serializers.CharField()
            title = serializers.CharField()
            author = serializers.CharField(source="author_name")
            published_at = serializers.CharField(allow_null=True)

        chunk_id = serializers.IntegerField()
        text = serializers.CharField()
        score = serializers.FloatField()
        document = DocumentSerializer(source="*")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SearchResults"

        results = serializers.ListField()
        filters = serializers.DictField()
        trace_id = serializers.UUIDField()

    @extend_schema(
        parameters=[InputSerializer],
        responses={200: OutputSerializer, 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        author = _known_author(fields.get("author"), user=request.user)
        found = async_to_sync(rag_search)(
            question=fields["q"],
            author=author,
            configuration=RagConfiguration(final_k=fields["k"]),
            readable_author_ids=readable_author_ids(user=request.user),
        )
        results = [
            {**self.ResultSerializer(hit).data, "score": hit.get("rerank_score", hit["score"])} for hit in found.results
        ]
        return Response({"results": results, "filters": found.filters, "trace_id": found.trace_id})


class FeedbackApi(APIView):
    required_scope = "chat"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FeedbackInput"

        rating = serializers.ChoiceField(choices=["up", "down"])
        edited_answer = serializers.CharField(required=False, allow_blank=True, max_length=8000)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={201: None, 400: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request: Request, message_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = selectors.message_of(user=request.user, message_id=message_id)
        services.feedback_record(user=request.user, message=message, **data.validated_data)
        return Response(status=status.HTTP_201_CREATED)
