"""Template filters for showing hostile forum text on moderator pages."""
from django import template
from django.utils.safestring import SafeData, SafeString, mark_safe

from forum_helper.moderation.visible_text import escape_revealing, reveal

register = template.Library()


@register.filter
def visible(value: object) -> SafeString:
    """Escape the text and show invisible/direction-control characters as tokens (use after truncating)."""
    if isinstance(value, SafeData):  # already markup (ours): only reveal, never escape twice
        return mark_safe(reveal(str(value)))  # noqa: S308
    return escape_revealing(str(value if value is not None else ""))
