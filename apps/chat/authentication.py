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
            raise exceptions.AuthenticationFailed("The API key is not valid, or it was revoked.")
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return self.keyword
