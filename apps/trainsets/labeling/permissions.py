"""Who may label: active staff in the annotators group (settings.ANNOTATORS_GROUP), and superusers."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse


def user_can_label(user) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return user.is_staff and user.groups.filter(name=settings.ANNOTATORS_GROUP).exists()


def annotator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the admin's login; signed-in people without the right get a 403 page.

    The 403 says which group grants access, so a staff member knows whom to ask rather than retrying.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not user_can_label(request.user):
            context = {"title": "Not an annotator", "group": settings.ANNOTATORS_GROUP}
            return TemplateResponse(request, "trainsets/labeling/forbidden.html", context, status=403)
        return view(request, *args, **kwargs)

    return guarded
