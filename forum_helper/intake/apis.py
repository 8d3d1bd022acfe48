"""Webhook endpoints: translate HTTP to a WebhookRequest, call one service, answer its result."""
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake.payloads import StandardEnvelopeSerializer
from forum_helper.intake.webhooks import WebhookRequest, discourse_delivery_receive, standard_delivery_receive


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Senders' Accept headers are ignored: webhook answers are always JSON."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return None  # the body is read raw, never through DRF's parsers

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


def webhook_request_build(request: Request, *, source_slug: str) -> WebhookRequest:
    """Read the raw body within WEBHOOK_MAX_BODY_BYTES: Content-Length is checked before reading."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    headers = {name.lower(): value for name, value in request.headers.items()}
    declared = (request.META.get("CONTENT_LENGTH") or "0").strip()
    too_large = ApplicationError(
        f"The body is larger than {limit} bytes; send one post per delivery.", status=413, extra={"max_bytes": limit}
    )
    if not declared.isascii() or not declared.isdigit():
        problem = ApplicationError("Content-Length must be a non-negative integer.")
        return WebhookRequest(source_slug=source_slug, headers=headers, body_problem=problem)
    if int(declared) > limit:
        return WebhookRequest(source_slug=source_slug, headers=headers, body_size=int(declared), body_problem=too_large)
    try:
        body = request._request.body  # raw bytes, whatever the Content-Type says
    except (RequestDataTooBig, RawPostDataException):
        return WebhookRequest(source_slug=source_slug, headers=headers, body_size=int(declared), body_problem=too_large)
    if len(body) > limit:
        return WebhookRequest(source_slug=source_slug, headers=headers, body_size=len(body), body_problem=too_large)
    return WebhookRequest(source_slug=source_slug, headers=headers, body=body, body_size=len(body))


class WebhookApi(APIView):
    # Authenticated by the payload signature, not by a session: no CSRF, no login.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation


ErrorSerializer = inline_serializer(
    name="WebhookError",
    fields={"message": serializers.CharField(), "extra": serializers.DictField()},
)
AnswerSerializer = inline_serializer(
    name="WebhookAnswer",
    fields={
        # 202 "queued": stored, processed by a worker within about a second; 200 "duplicate":
        # a Standard Webhooks id seen before; 200 "ok": ping; 202 "ignored": not a screened event.
        "status": serializers.ChoiceField(choices=["queued", "duplicate", "ignored", "ok"]),
        "delivery_id": serializers.IntegerField(required=False),
        "message": serializers.CharField(required=False),
    },
)
ERROR_RESPONSES = {
    code: OpenApiResponse(ErrorSerializer, description=description)
    for code, description in {
        400: "Malformed body, missing field or wrong type, stale timestamp; `message` says what to fix.",
        401: "Missing or wrong signature.",
        403: "X-Discourse-Instance is not the configured forum.",
        404: "Unknown source slug, or a source of another kind.",
        413: "Body larger than WEBHOOK_MAX_BODY_BYTES.",
    }.items()
}


class DiscourseWebhookApi(WebhookApi):
    @extend_schema(
        operation_id="webhook_discourse",
        summary="Discourse webhook (post_created, post_edited, post_recovered, topic_created, ping)",
        description=(
            "Configure in Discourse: Payload URL `/webhooks/discourse/<slug>/`, the source's secret "
            "(>= 12 chars). Signature `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256(secret, body)>`. "
            "The body is read as JSON whatever the Content-Type. A valid post is stored and answered "
            "202 `queued` at once; a worker stores the post version and screens it. Posts are de-duplicated "
            "on (post.id, post.version)."
        ),
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("X-Discourse-Event", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Discourse-Event-Signature", str, OpenApiParameter.HEADER),
            OpenApiParameter("X-Discourse-Instance", str, OpenApiParameter.HEADER),
            OpenApiParameter("X-Discourse-Event-Id", str, OpenApiParameter.HEADER),
        ],
        responses={200: AnswerSerializer, 202: AnswerSerializer, **ERROR_RESPONSES},
        auth=[],
        tags=["webhooks"],
    )
    def post(self, request: Request, source_slug: str) -> Response:
        answer = discourse_delivery_receive(request=webhook_request_build(request, source_slug=source_slug))
        return Response(answer.data, status=answer.status)


class StandardWebhookApi(WebhookApi):
    @extend_schema(
        operation_id="webhook_standard",
        summary="Standard Webhooks delivery of a forum post",
        description=(
            "Signed per https://www.standardwebhooks.com: headers `webhook-id` (de-duplication key), "
            "`webhook-timestamp` (unix seconds, at most STANDARD_WEBHOOK_TOLERANCE_SECONDS away) and "
            "`webhook-signature: v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}` with the source's "
            "`whsec_` secret. Types `post.created` and `post.edited` are stored and screened; others answer 202."
        ),
        request=StandardEnvelopeSerializer,
        examples=[
            OpenApiExample(
                "post.created",
                request_only=True,
                value={
                    "type": "post.created",
                    "timestamp": "2024-06-01T08:00:01Z",
                    "data": {
                        "thread": {"id": "t-77", "title": "Stinging after acids", "url": "https://skin.example/t/77"},
                        "post": {"id": "p-501", "text": "I mixed glycolic acid with my tretinoin...", "position": 1, "version": 1},
                        "author": {"id": "u-5", "name": "lin", "role": "member", "trust_level": 1},
                    },
                },
            )
        ],
        parameters=[
            OpenApiParameter("webhook-id", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("webhook-timestamp", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("webhook-signature", str, OpenApiParameter.HEADER, required=True),
        ],
        responses={200: AnswerSerializer, 202: AnswerSerializer, **ERROR_RESPONSES},
        auth=[],
        tags=["webhooks"],
    )
    def post(self, request: Request, source_slug: str) -> Response:
        answer = standard_delivery_receive(request=webhook_request_build(request, source_slug=source_slug))
        return Response(answer.data, status=answer.status)
