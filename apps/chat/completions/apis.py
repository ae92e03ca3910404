"""The OpenAI-compatible API under /v1: ``base_url="<host>/v1"`` in the official SDK and its kin."""

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.chat.completions import selectors, services
from apps.chat.completions.errors import ModelNotFound, OpenAIApiView
from apps.chat.completions.inputs import CompletionInputSerializer
from apps.chat.completions.selectors import Twin
from apps.rag.configuration import RagConfiguration
from apps.rag.providers import served_model_name


class OpenAIErrorSerializer(serializers.Serializer):
    class Body(serializers.Serializer):
        class Meta:
            ref_name = "OpenAIErrorBody"

        message = serializers.CharField()
        type = serializers.CharField()
        param = serializers.CharField(allow_null=True)
        code = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "OpenAIError"

    error = Body()


class OpenAIEventStreamRenderer(renderers.BaseRenderer):
    """Lets clients send ``Accept: text/event-stream``; an error before the stream is one data event."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return f"data: {renderers.JSONRenderer().render(data).decode()}\n\n".encode()


class ModelListApi(OpenAIApiView):
    class OutputSerializer(serializers.Serializer):
        class ModelSerializer(serializers.Serializer):
            class Meta:
                ref_name = "OpenAIModel"

            id = serializers.CharField()
            object = serializers.SerializerMethodField()
            created = serializers.SerializerMethodField()
            owned_by = serializers.SerializerMethodField()
            name = serializers.CharField()
            metadata = serializers.SerializerMethodField(
                help_text="author (null: all authors), model_version, provider"
            )

            def get_object(self, twin: Twin) -> str:
                return "model"

            def get_created(self, twin: Twin) -> int:
                return int(twin.created.timestamp()) if twin.created else 0

            def get_owned_by(self, twin: Twin) -> str:
                return "twinsite"

            def get_metadata(self, twin: Twin) -> dict:
                version = served_model_name(author_ids=twin.author_ids)  # an author's own, when it answers them
                return {"author": twin.author, "model_version": version, "provider": settings.LLM_PROVIDER}

        class Meta:
            ref_name = "OpenAIModelList"

        object = serializers.CharField()
        data = ModelSerializer(many=True)

    @extend_schema(
        summary="The twins this key may talk to, as models",
        responses={200: OutputSerializer, 401: OpenAIErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        models = {"object": "list", "data": selectors.twins_for(user=request.user)}
        return Response(self.OutputSerializer(models).data)


class ChatCompletionApi(OpenAIApiView):
    throttle_scope = "chat"
    renderer_classes = [renderers.JSONRenderer, OpenAIEventStreamRenderer]
    InputSerializer = CompletionInputSerializer  # long enough for a module of its own

    class OutputSerializer(serializers.Serializer):
        class ChoiceSerializer(serializers.Serializer):
            class Meta:
                ref_name = "OpenAIChoice"

            index = serializers.IntegerField()
            message = serializers.DictField(help_text="role: assistant, content: the answer and its sources list")
            finish_reason = serializers.ChoiceField(choices=["stop", "length"])

        class Meta:
            ref_name = "ChatCompletion"

        id = serializers.CharField()
        object = serializers.CharField(default="chat.completion")
        created = serializers.IntegerField()
        model = serializers.CharField()
        system_fingerprint = serializers.CharField(help_text="The model version that answered.")
        choices = ChoiceSerializer(many=True)
        usage = serializers.DictField(child=serializers.IntegerField())
        citations = serializers.ListField(child=serializers.DictField(), help_text="The sources, as /api/v1/chat")
        conversation_id = serializers.UUIDField()
        message_id = serializers.IntegerField(help_text="For POST /api/v1/messages/{id}/feedback.")
        trace_id = serializers.UUIDField()

    @extend_schema(
        summary="Ask a twin, OpenAI-style",
        request=InputSerializer,
        responses={
            200: OpenApiResponse(
                OutputSerializer, description="The answer; with stream=true, Server-Sent Events of chunks."
            ),
            400: OpenAIErrorSerializer,
            401: OpenAIErrorSerializer,
            404: OpenApiResponse(OpenAIErrorSerializer, description="No such model for this key."),
            429: OpenApiResponse(OpenAIErrorSerializer, description="Too many requests; see Retry-After."),
            503: OpenApiResponse(OpenAIErrorSerializer, description="The model backend is down; see Retry-After."),
        },
    )
    def post(self, request: Request) -> Response | StreamingHttpResponse:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        twin = selectors.twin_get(user=request.user, model=fields["model"])
        if twin is None:
            raise ModelNotFound(fields["model"])
        turn = services.completion_start(
            user=request.user,
            twin=twin,
            earlier=fields["earlier"],
            question=fields["question"],
            end_user=fields.get("user", ""),
        )
        configuration = RagConfiguration(
            max_tokens=fields["max_tokens"], temperature=fields["temperature"], top_p=fields["top_p"]
        )
        configuration.stop = (*configuration.stop, *fields["stop"])  # the graph's own stops stay
        options = services.CompletionOptions(
            model=fields["model"],
            max_tokens=fields["max_tokens"],
            sources_in_content=fields["sources_in_content"],
            include_usage=fields["include_usage"],
            author_ids=twin.author_ids,
        )
        ids = {"X-Conversation-Id": str(turn.conversation.pk)}
        if fields["stream"]:
            chunks = services.completion_chunks(turn=turn, configuration=configuration, options=options)
            response = StreamingHttpResponse(chunks, content_type="text/event-stream", headers=ids)
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # no proxy buffering: tokens reach the client as they come
            return response
        payload = services.completion_create(turn=turn, configuration=configuration, options=options)
        return Response(payload, headers={**ids, "X-Message-Id": str(payload["message_id"])})
