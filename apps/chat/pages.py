"""The chat page at /chat/: anyone signed in talks to the twins they may read, in their own conversations.

Like the playground, the page's script calls the REST API with the session (and CSRF token): /api/v1/chat to
ask (streamed), /api/v1/conversations to list, rename and delete, /api/v1/messages/{id}/feedback for thumbs
and edited answers. This module only renders the page and the sign-in form.
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from apps.chat.completions.selectors import twins_for
from apps.chat.models import Conversation

MAX_TOKENS = 256


@require_GET
@login_required(login_url=reverse_lazy("chat-login"))
@ensure_csrf_cookie
def chat_page(request: HttpRequest) -> TemplateResponse:
    context = {
        "twins": twins_for(user=request.user),
        "max_tokens": MAX_TOKENS,
        "channel": Conversation.Channel.WEB,
        "chat_url": reverse("api-chat"),
        "conversations_url": reverse("api-conversations"),
        # The page fills the ids in: placeholders keep URLs in the URLconf, not in the script.
        "conversation_url": reverse("api-conversation", args=["00000000-0000-0000-0000-000000000000"]),
        "feedback_url": reverse("api-feedback", args=[0]),
    }
    return TemplateResponse(request, "chat/app.html", context)


class ChatLoginView(auth_views.LoginView):
    """Django's sign-in, for everyone with an account (the admin's sign-in admits staff only)."""

    template_name = "chat/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("chat")

    def get_default_redirect_url(self) -> str:
        return str(self.next_page)


class ChatLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("chat-login")
