"""The queue table's rows as HTML, built in Python.

Fifty rows through the template engine cost about 0.6 ms each (some twenty variable lookups,
filters and a loop per row), more than the page's queries together; format_html, reverse(),
localize() and the date filter per row still cost about 0.3 ms. So every value is escaped here
with django.utils.html.escape (exactly what the template's autoescape does), the item URL is
reversed once per page, and numbers and dates are formatted directly.
tests/moderation/test_queue_rows.py checks the output against the template markup this replaces.

Post text, thread titles and author names are hostile: besides escaping, invisible and
direction-control characters are shown as tokens (visible_text.escape_revealing).
"""
import unicodedata
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timezone import template_localtime

from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.visible_text import escape_revealing

_ROW = (
    '<tr class="queue-row sev-{severity}" data-href="{url}?{query}">'
    '<td><input type="checkbox" name="items" value="{pk}:{version}" aria-label="Select item {pk}"></td>'
    '<td><a href="{url}?{query}">{pk}</a></td>'
    '<td><span class="sev sev-{severity}">{severity}</span></td>'
    "<td>{priority}</td>"
    "<td>{chips}</td>"
    '<td class="excerpt"><strong>{title}</strong><br>{excerpt}{edited}</td>'
    "<td>{author}{staff}</td>"
    "<td>{source}</td>"
    "<td>{status}{claimer}</td>"
    "<td>{created}</td>"
    "</tr>"
)
_EDITED = ' <span class="badge">edited since decision</span>'
_STAFF = ' <span class="badge staff">staff</span>'
_URL_PLACEHOLDER = 987654321


def truncated(text: str, length: int) -> str:
    """The truncatechars filter's result; skips Truncator's work when the text already fits."""
    if len(text) <= length and unicodedata.is_normalized("NFC", text):
        return text
    return Truncator(text).chars(length)


def _minute(value: datetime) -> str:
    """The date filter's "Y-m-d H:i" in the current time zone."""
    local = template_localtime(value)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def _row(item: QueueItem, *, url: str, query: str, number: Callable[[int], str]) -> str:
    post = item.post
    return _ROW.format(
        severity=escape(item.severity),
        url=escape(url),
        query=escape(query),
        pk=number(item.pk),
        version=number(item.version),
        priority=number(item.priority),
        chips="".join(f'<span class="chip cat-{c}">{c}</span> ' for c in map(escape, item.categories)),
        title=escape_revealing(truncated(post.thread.title, 80)),
        excerpt=escape_revealing(truncated(item.finding.post_version.raw_text, 160)),
        edited=_EDITED if item.edited_since_decision else "",
        author=escape_revealing(post.author_name),
        staff=_STAFF if item.is_staff_author else "",
        source=escape(post.source.slug),
        status=escape(item.status),
        claimer=f" · {escape(item.claimed_by.get_username())}" if item.claimed_by else "",
        created=_minute(item.created_at),
    )


def queue_rows_html(items: list[QueueItem], *, query: str) -> list[SafeString]:
    """The rows; each item's post (with source and thread), finding text and claimer must be loaded."""
    # One reverse() for the page: the item URL differs only by its id.
    url_pattern = reverse("moderation:item", args=[_URL_PLACEHOLDER])
    number = localize if settings.USE_THOUSAND_SEPARATOR else str
    return [
        mark_safe(_row(item, url=url_pattern.replace(str(_URL_PLACEHOLDER), str(item.pk)), query=query,  # noqa: S308
                       number=number))  # every value above is escaped
        for item in items
    ]
