"""Queue rows built in Python render exactly what the template markup they replace rendered."""
import re

import pytest
from django.template import engines

from forum_helper.moderation.models import QueueItem
from forum_helper.moderation.queue_rows import queue_rows_html
from forum_helper.moderation.selectors import QueueFilters, queue_page
from forum_helper.moderation.services import queue_item_claim, queue_item_sync_for_finding
from tests.moderation.factories import finding_create

pytestmark = pytest.mark.django_db

# The row markup of templates/moderation/queue.html before rows were built in Python.
TEMPLATE_ROWS = engines["django"].from_string("""
    {% for item in items %}
      <tr class="queue-row sev-{{ item.severity }}" data-href="{% url 'moderation:item' item.pk %}?{{ query }}">
        <td><input type="checkbox" name="items" value="{{ item.pk }}:{{ item.version }}" aria-label="Select item {{ item.pk }}"></td>
        <td><a href="{% url 'moderation:item' item.pk %}?{{ query }}">{{ item.pk }}</a></td>
        <td><span class="sev sev-{{ item.severity }}">{{ item.severity }}</span></td>
        <td>{{ item.priority }}</td>
        <td>{% for c in item.categories %}<span class="chip cat-{{ c }}">{{ c }}</span> {% endfor %}</td>
        <td class="excerpt"><strong>{{ item.post.thread.title|truncatechars:80 }}</strong><br>{{ item.finding.post_version.raw_text|truncatechars:160 }}{% if item.edited_since_decision %} <span class="badge">edited since decision</span>{% endif %}</td>
        <td>{{ item.post.author_name }}{% if item.is_staff_author %} <span class="badge staff">staff</span>{% endif %}</td>
        <td>{{ item.post.source.slug }}</td>
        <td>{{ item.status }}{% if item.claimed_by %} · {{ item.claimed_by.get_username }}{% endif %}</td>
        <td>{{ item.created_at|date:"Y-m-d H:i" }}</td>
      </tr>
    {% endfor %}
""")
HOSTILE = 'Try a dermaroller <script>alert(1)</script> & "quotes" \'too\' ' + "long text " * 30


def _tags_joined(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def test_python_rows_match_the_template_rows_for_every_kind_of_item(moderator) -> None:
    plain = queue_item_sync_for_finding(finding=finding_create())
    hostile = queue_item_sync_for_finding(
        finding=finding_create(text=HOSTILE, categories=["home_needling", "uv_combination"], author_name="<b>eve</b>")
    )
    staff = queue_item_sync_for_finding(finding=finding_create(author_role="staff", severity="medium", categories=[]))
    queue_item_claim(item_id=plain.pk, actor=moderator)
    QueueItem.objects.filter(pk=staff.pk).update(edited_since_decision=True)
    query = "severity=high&category=home_needling&sort=newest"

    items = queue_page(user=moderator, filters=QueueFilters(), page=1).items + queue_page(
        user=moderator, filters=QueueFilters(tab="low"), page=1
    ).items

    assert {plain.pk, hostile.pk} <= {item.pk for item in items}
    expected = _tags_joined(TEMPLATE_ROWS.render({"items": items, "query": query}))
    assert _tags_joined("".join(queue_rows_html(items, query=query))) == expected
    assert "&lt;script&gt;" in expected and "<script>" not in expected
    assert all(marker in expected for marker in ("edited since decision", "badge staff", " · mod<", "&lt;b&gt;eve"))
