"""Bare baselines for bench/: the least a webhook receiver and a queue page can do.

Mounted only by forum_helper.config.bench_urls. The webhook baseline reads the source's
secrets, verifies the same Discourse HMAC and does one INSERT into `bench_bare_delivery`
(a table the benchmark creates); the queue baseline renders 50 rows of the queue table.
"""
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.views import View
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from forum_helper.intake.models import ForumSource
from forum_helper.intake.signatures import discourse_signature_valid
from forum_helper.moderation.models import QueueItem


class BareWebhookApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, source_slug: str) -> Response:
        body = request._request.body
        secrets = ForumSource.objects.filter(slug=source_slug).values_list("secrets", flat=True).first()
        if secrets is None:
            return Response({"message": "unknown source"}, status=404)
        signature = request.headers.get("X-Discourse-Event-Signature", "")
        if not discourse_signature_valid(secrets=secrets, body=body, header=signature):
            return Response({"message": "bad signature"}, status=401)
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_bare_delivery (source_slug, body) VALUES (%s, %s) RETURNING id", [source_slug, body])
            (row_id,) = cursor.fetchone()
        return Response({"status": "accepted", "id": row_id})


_QUEUE_TEMPLATE = engines["django"].from_string(
    "<!doctype html><title>bare queue</title><table>"
    "{% for item in items %}<tr><td>{{ item.pk }}</td><td>{{ item.severity }}</td><td>{{ item.priority }}</td>"
    "<td>{{ item.post.author_name }}</td><td>{{ item.post.source.slug }}</td><td>{{ item.created_at }}</td></tr>{% endfor %}"
    "</table>"
)


class BareQueuePageView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        items = (
            QueueItem.objects.filter(lane=QueueItem.Lane.RISK, status=QueueItem.Status.OPEN)
            .select_related("post__source")
            .order_by("-priority", "-created_at", "-id")[:50]
        )
        return HttpResponse(_QUEUE_TEMPLATE.render({"items": items}, request))
