"""OpenAI's error shape, {"error": {"message", "type", "param", "code"}}, for every failure under /v1.

SDKs pick their exception class from the status (401 AuthenticationError, 400 BadRequestError, 404
NotFoundError, 429 RateLimitError, 5xx InternalServerError) and show ``message``; ``param`` names the
request field at fault, as a path like ``messages[2].content``.
"""

import logging

from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from apps.chat.authentication import ApiKeyAuthentication
from apps.chat.errors import DATABASE_DOWN, DATABASE_DOWN_ERRORS, RETRY_AFTER_S, database_down
from apps.rag.providers import ProviderError, ProviderUnavailable
from lib.errors import TwinsiteError

logger = logging.getLogger(__name__)

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR = "server_error"
_SERVER_FAILED = "Something went wrong on our side; it has been logged."
_KINDS = {  # exception -> (type, code)
    exceptions.NotAuthenticated: (INVALID_REQUEST, "invalid_api_key"),
    exceptions.AuthenticationFailed: (INVALID_REQUEST, "invalid_api_key"),
    exceptions.PermissionDenied: (INVALID_REQUEST, "forbidden"),
    exceptions.NotFound: (INVALID_REQUEST, "not_found"),
    exceptions.MethodNotAllowed: (INVALID_REQUEST, "method_not_allowed"),
    exceptions.NotAcceptable: (INVALID_REQUEST, "not_acceptable"),
    exceptions.Throttled: ("requests", "rate_limit_exceeded"),
    exceptions.ParseError: (INVALID_REQUEST, "malformed_json"),
    exceptions.UnsupportedMediaType: (INVALID_REQUEST, "unsupported_media_type"),
}


class ModelNotFound(exceptions.NotFound):
    default_code = "model_not_found"
    param = "model"

    def __init__(self, model: str) -> None:
        super().__init__(f"The model {model!r} does not exist or you do not have access to it; see GET /v1/models.")


def openai_error(message: str, *, type: str, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def provider_error(exc: ProviderError) -> tuple[int, dict]:
    """A failing model backend: down is 503 (retry later); a request it refused is 502."""
    if isinstance(exc, ProviderUnavailable):
        return 503, openai_error(str(exc), type=SERVER_ERROR, code="model_unavailable")
    return 502, openai_error(str(exc), type=SERVER_ERROR, code="model_error")


def _first_problem(detail, path: str = "") -> tuple[str | None, str, str]:
    """The param (``messages[1].content``), message and code of the first problem of a DRF error detail."""
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        if isinstance(name, int) or str(name).isdigit():
            path = f"{path}[{name}]"
        elif name != "non_field_errors":
            path = f"{path}.{name}" if path else str(name)
        return _first_problem(value, path)
    if isinstance(detail, list) and detail:
        return _first_problem(detail[0], path)
    return path or None, str(detail), getattr(detail, "code", None) or "invalid_value"


def database_error() -> dict:
    return openai_error(DATABASE_DOWN, type=SERVER_ERROR, code="database_unavailable")


def openai_exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, DATABASE_DOWN_ERRORS):
        database_down(exc)
        return Response(database_error(), status=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    if isinstance(exc, ProviderError):
        code, body = provider_error(exc)
        response = Response(body, status=code)
        if code == status.HTTP_503_SERVICE_UNAVAILABLE:
            response["Retry-After"] = str(RETRY_AFTER_S)
        return response
    if isinstance(exc, TwinsiteError):
        return Response(openai_error(str(exc), type=INVALID_REQUEST, code="invalid_value"), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)  # the status and headers (Retry-After, WWW-Authenticate)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(openai_error(_SERVER_FAILED, type=SERVER_ERROR, code="server_error"), status=500)
    if isinstance(exc, exceptions.ValidationError):
        param, message, code = _first_problem(exc.detail)
        response.data = openai_error(f"{param}: {message}" if param else message, type=INVALID_REQUEST, code=code)
        response.data["error"]["param"] = param
        return response
    kind, code = next((kind for cls, kind in _KINDS.items() if isinstance(exc, cls)), (INVALID_REQUEST, None))
    code = exc.default_code if isinstance(exc, ModelNotFound) else code
    message = str(getattr(exc, "detail", exc))
    response.data = openai_error(message, type=kind, code=code, param=getattr(exc, "param", None))
    return response


class OpenAIApiView(APIView):
    """A /v1 view: bearer API keys only (what SDKs send), and OpenAI's error shape."""

    authentication_classes = [ApiKeyAuthentication]
    required_scope = "chat"  # the twins, as models, and talking to them (apps.core.permissions.KeyScopeRequired)

    def get_exception_handler(self):
        return openai_exception_handler


def openai_not_found(request) -> JsonResponse:
    message = f"Nothing is at {request.method} {request.path}; this API has /v1/models and /v1/chat/completions."
    return JsonResponse(openai_error(message, type=INVALID_REQUEST, code="not_found"), status=404)


def openai_server_error(request) -> JsonResponse:
    return JsonResponse(openai_error(_SERVER_FAILED, type=SERVER_ERROR, code="server_error"), status=500)
