"""Authors and sources over the API: each key reads the authors it may (and their sources, with the "sources"
scope); staff keys with the "staff" scope add sources and start crawls."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.permissions import KeyScopeRequired, StaffOperation
from apps.sources.crawlers import guess_kind
from apps.sources.models import Author, Source
from apps.sources.options import OptionError, source_options_clean
from apps.sources.selectors import author_find, authors_readable
from apps.sources.services import crawl_run_enqueue, source_create


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name", "aliases", "bio", "handles"]


class SourceSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.name")
    # The URL is stored without its credentials; whether it has any is all that is ever shown of them.
    has_credentials = serializers.BooleanField(read_only=True)

    class Meta:
        model = Source
        fields = [
            "id",
            "author",
            "kind",
            "url",
            "options",
            "has_credentials",
            "active",
            "schedule",
            "last_crawl_status",
            "last_crawled_at",
        ]


class AuthorListApi(APIView):
    @extend_schema(responses=AuthorSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(AuthorSerializer(authors_readable(user=request.user), many=True).data)


class SourceListApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SourceInput"

        author = serializers.CharField(max_length=200)
        url = serializers.CharField(max_length=2000)
        kind = serializers.ChoiceField(choices=Source.Kind.values, required=False)
        schedule = serializers.CharField(required=False, allow_blank=True, max_length=100)
        options = serializers.DictField(required=False, help_text="The kind's crawler options (see README).")

        def validate(self, attrs: dict) -> dict:
            if attrs.get("options"):
                kind = attrs.get("kind") or guess_kind(attrs["url"].strip())
                try:
                    attrs["options"] = source_options_clean(kind=kind, options=attrs["options"])
                except OptionError as exc:
                    raise serializers.ValidationError({"options": [str(exc)]}) from None
            return attrs

    required_scope = {"GET": "sources"}

    def get_permissions(self):
        return [IsAuthenticated(), KeyScopeRequired()] if self.request.method == "GET" else [StaffOperation()]

    @extend_schema(responses=SourceSerializer(many=True))
    def get(self, request: Request) -> Response:
        sources = Source.objects.filter(author__in=authors_readable(user=request.user)).select_related("author")
        return Response(SourceSerializer(sources, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SourceSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        author = author_find(name=fields["author"])
        if author is None:
            raise serializers.ValidationError({"author": [f"No author is called {fields['author']!r}."]})
        source = source_create(
            author=author,
            url=fields["url"],
            kind=fields.get("kind"),
            schedule=fields.get("schedule", ""),
            options=fields.get("options") or {},
        )
        return Response(SourceSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceCrawlApi(APIView):
    permission_classes = [StaffOperation]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrawlQueued"

        crawl_run = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(request=None, responses={202: OutputSerializer})
    def post(self, request: Request, source_id: int) -> Response:
        source = get_object_or_404(Source, pk=source_id)
        run = crawl_run_enqueue(source=source)
        return Response({"crawl_run": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)
