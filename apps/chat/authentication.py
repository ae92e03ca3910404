from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions

from apps.chat.keys import api_key_check


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>``; request.auth is the ApiKey."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, key = header.partition(" ")
        if keyword != self.keyword:
            return None
        api_key = api_key_check(key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is not valid, or it was revoked or has expired.")
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the bearer API key in the OpenAPI schema (drf-spectacular cannot infer a custom class)."""

    target_class = ApiKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix=self.target.keyword)
