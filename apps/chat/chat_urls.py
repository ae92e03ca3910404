"""The chat page for signed-in people, mounted at /chat/ by twinsite/urls.py."""

from django.urls import path

from apps.chat import pages

urlpatterns = [
    path("", pages.chat_page, name="chat"),
    path("login/", pages.ChatLoginView.as_view(), name="chat-login"),
    path("logout/", pages.ChatLogoutView.as_view(), name="chat-logout"),
]
