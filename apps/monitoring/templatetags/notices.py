"""``{% notices_banner %}``: the notices staff should see, on every admin page (templates/admin/base_site.html)."""

from django import template

from apps.monitoring.selectors import notices_shown

register = template.Library()


@register.inclusion_tag("admin/monitoring/notices_banner.html", takes_context=True)
def notices_banner(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    staff = user is not None and user.is_active and user.is_staff
    return {
        "notices": notices_shown() if staff else [],
        "can_mute": staff and user.has_perm("monitoring.change_notice"),
    }
