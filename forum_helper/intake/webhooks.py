"""Services behind the webhook endpoints: verify -> validate -> store the delivery -> answer.

Every delivery, accepted or not, leaves one Delivery row. Rejections raise ApplicationError
(rendered as {"message", "extra"}) after the row is written; nothing else is stored for them.
A valid delivery is stored with its body as QUEUED and answered 202 at once (one INSERT); the
intake drain (intake/drain.py) stores the post version and enqueues screening later.
"""
import functools
import hashlib
import itertools
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from forum_helper.core.exceptions import ApplicationError
from forum_helper.intake import payloads
from forum_helper.intake.drain import intake_drain_schedule
from forum_helper.intake.models import Delivery, ForumSource
from forum_helper.intake.selectors import delivery_message_seen, forum_source_cache_clear, forum_source_get
from forum_helper.intake.signatures import discourse_signature_valid, standard_verify

DISCOURSE_SIGNATURE_HEADER = "x-discourse-event-signature"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
# Header names whose values are never stored in the delivery log.
_SECRET_HEADER = re.compile(r"signature|secret|token|auth|cookie|password|api[-_]?key|session", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
MAX_LOGGED_HEADERS = 60
MAX_LOGGED_HEADER_LENGTH = 1000


@dataclass(frozen=True)
class WebhookRequest:
    """One HTTP delivery, as the view hands it over."""

    source_slug: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    body_size: int = 0
    # Set by the HTTP edge when the body was not read (too large, bad Content-Length).
    body_problem: ApplicationError | None = None


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    data: dict[str, Any]


@dataclass
class _DeliveryLog:
    endpoint: str
    request: WebhookRequest
    source: ForumSource | None = None
    event: str = ""
    event_id: str = ""
    message_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self, *, outcome: str, status_code: int, error: str = "", body: bytes = b"") -> Delivery:
        return delivery_record(
            source=self.source,
            source_slug=self.request.source_slug,
            endpoint=self.endpoint,
            event=self.event,
            event_id=self.event_id,
            message_id=self.message_id,
            headers=self.request.headers,
            body=self.request.body,
            body_size=self.request.body_size,
            outcome=outcome,
            status_code=status_code,
            error=error,
            kept_body=body,
        )


def _clean(value: str, limit: int) -> str:
    """Text safe for any database column: no NULs or surrogates, at most `limit` characters."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


@functools.lru_cache(maxsize=512)
def _header_name_for_log(name: str) -> tuple[str, bool]:
    """(cleaned lower-case name, whether its value is redacted); senders repeat the same few names."""
    cleaned = _clean(name.lower(), 100)
    return cleaned, bool(_SECRET_HEADER.search(cleaned))


def headers_for_log(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as logged: secrets, signatures and cookies redacted; sizes capped."""
    logged: dict[str, str] = {}
    for name, value in itertools.islice(headers.items(), MAX_LOGGED_HEADERS):
        name, secret = _header_name_for_log(str(name))
        logged[name] = "[redacted]" if secret else _clean(str(value), MAX_LOGGED_HEADER_LENGTH)
    return logged


def delivery_record(
    *,
    source: ForumSource | None,
    source_slug: str,
    endpoint: str,
    event: str,
    event_id: str,
    message_id: str,
    headers: Mapping[str, str],
    body: bytes,
    body_size: int,
    outcome: str,
    status_code: int,
    error: str = "",
    kept_body: bytes = b"",
) -> Delivery:
    """Write one delivery log row (never the secrets: signature headers are redacted).

    `kept_body` is stored only for queued deliveries, which the drain processes later.
    """
    return Delivery.objects.create(
        source=source,
        source_slug=_clean(source_slug, 64),
        endpoint=endpoint,
        event=_clean(event, 64),
        event_id=_clean(event_id, 200),
        message_id=_clean(message_id, 200),
        headers=headers_for_log(headers),
        body_sha256=hashlib.sha256(body).hexdigest() if body else "",
        body_size=min(body_size, 2**31 - 1),
        outcome=outcome,
        status_code=status_code,
        error=_clean(error, 2000),
        body=kept_body,
    )


def _receive(
    *,
    endpoint: str,
    kind: str,
    request: WebhookRequest,
    handle: Callable[[ForumSource, _DeliveryLog], WebhookAnswer],
) -> WebhookAnswer:
    log = _DeliveryLog(endpoint=endpoint, request=request)
    slug = request.source_slug[:64]
    try:
        source = forum_source_get(slug=slug, cached=True)
        if source is None:
            raise _no_source(slug)
        log.source = source
        if source.kind != kind:
            raise ApplicationError(
                f"Source {source.slug!r} is a {source.get_kind_display()} source; post to /webhooks/{source.kind}/{source.slug}/.",
                status=404,
            )
        if request.body_problem is not None:
            raise request.body_problem
        try:
            return handle(source, log)
        except IntegrityError:
            # The cached source may have been deleted by another process since it was read.
            forum_source_cache_clear()
            if forum_source_get(slug=slug) is not None:
                raise
            log.source = None
            raise _no_source(slug) from None
    except ApplicationError as error:
        log.record(outcome=Delivery.Outcome.REJECTED, status_code=error.status, error=error.message)
        raise


def _no_source(slug: str) -> ApplicationError:
    return ApplicationError(f"No forum source {slug!r}; create it with `manage.py add_forum_source`.", status=404)


def _queue_answer(log: _DeliveryLog) -> WebhookAnswer:
    """Store a validated delivery for the drain and answer 202: the post is kept, not yet processed."""
    delivery = log.record(outcome=Delivery.Outcome.QUEUED, status_code=202, body=log.request.body)
    transaction.on_commit(intake_drain_schedule, robust=True)
    return WebhookAnswer(202, {"status": "queued", "delivery_id": delivery.pk})


# ---------------------------------------------------------------- Discourse


def _instance_normal(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _discourse_handle(source: ForumSource, log: _DeliveryLog) -> WebhookAnswer:
    headers, body = log.request.headers, log.request.body
    log.event = headers.get("x-discourse-event", "").strip()
    log.event_id = headers.get("x-discourse-event-id", "").strip()
    if source.secrets:
        signature = headers.get(DISCOURSE_SIGNATURE_HEADER, "")
        if not signature:
            raise ApplicationError(
                "X-Discourse-Event-Signature is missing; set the same secret in the forum's webhook settings.", status=401
            )
        if not discourse_signature_valid(secrets=source.secrets, body=body, header=signature):
            raise ApplicationError("X-Discourse-Event-Signature does not match the body under any configured secret.", status=401)
    if source.instance_url:
        instance = headers.get("x-discourse-instance", "")
        if _instance_normal(instance) != _instance_normal(source.instance_url):
            raise ApplicationError(
                "X-Discourse-Instance is not the forum configured for this source.",
                status=403,
                extra={"received": _clean(instance, 200)},
            )
    payload = payloads.json_body_decode(body)
    if not log.event:
        raise ApplicationError("The X-Discourse-Event header is missing (e.g. post_created).")

    if log.event == "ping":
        log.record(outcome=Delivery.Outcome.IGNORED, status_code=200)
        return WebhookAnswer(200, {"status": "ok"})
    # Validated now, so a bad body gets its 4xx; the drain parses the stored body again.
    if log.event in payloads.DISCOURSE_POST_EVENTS:
        payloads.discourse_post_parse(payload=payload, instance_url=source.instance_url)
        return _queue_answer(log)
    if log.event == "topic_created":
        payloads.discourse_topic_parse(payload=payload, instance_url=source.instance_url)
        return _queue_answer(log)
    log.record(outcome=Delivery.Outcome.IGNORED, status_code=202)
    return WebhookAnswer(202, {"status": "ignored", "message": f"Event {log.event[:64]!r} is not screened."})


def discourse_delivery_receive(*, request: WebhookRequest) -> WebhookAnswer:
    """Handle one Discourse webhook delivery (wire format: README, "Intake")."""
    return _receive(endpoint="discourse", kind=ForumSource.Kind.DISCOURSE, request=request, handle=_discourse_handle)


# ---------------------------------------------------------------- Standard Webhooks


def _standard_handle_at(now: float) -> Callable[[ForumSource, _DeliveryLog], WebhookAnswer]:
    def handle(source: ForumSource, log: _DeliveryLog) -> WebhookAnswer:
        headers, body = log.request.headers, log.request.body
        msg_id = headers.get("webhook-id", "").strip()
        timestamp = headers.get("webhook-timestamp", "").strip()
        log.message_id = msg_id
        missing = [name for name, value in (("webhook-id", msg_id), ("webhook-timestamp", timestamp)) if not value]
        if missing:
            raise ApplicationError(f"Missing Standard Webhooks header(s): {', '.join(missing)}.", extra={"missing": missing})
        if not _MESSAGE_ID.match(msg_id):
            log.message_id = ""
            raise ApplicationError("webhook-id must be 1 to 200 printable ASCII characters without spaces.")
        if not source.secrets:
            raise ApplicationError(
                "This source has no secret, so no delivery can be verified; add one with `manage.py add_forum_source`.",
                status=401,
            )
        signature = headers.get(STANDARD_SIGNATURE_HEADER, "")
        if not signature.strip():
            raise ApplicationError("The webhook-signature header is missing (v1,<base64>).", status=401)
        check = standard_verify(
            secrets=source.secrets,
            msg_id=msg_id,
            timestamp=timestamp,
            body=body,
            header=signature,
            now=now,
            tolerance_seconds=settings.STANDARD_WEBHOOK_TOLERANCE_SECONDS,
        )
        if not check.valid:
            raise ApplicationError(check.problem, status=check.status)
        if delivery_message_seen(source=source, message_id=msg_id):
            # Senders retry with the same webhook-id; answer 200 so they stop.
            log.record(outcome=Delivery.Outcome.DUPLICATE, status_code=200)
            return WebhookAnswer(200, {"status": "duplicate"})

        payload = payloads.json_body_decode(body)
        log.event = payloads.standard_event_type(payload=payload)
        if log.event not in payloads.STANDARD_POST_EVENTS:
            log.record(outcome=Delivery.Outcome.IGNORED, status_code=202)
            return WebhookAnswer(202, {"status": "ignored", "message": f"Event type {log.event!r} is not screened."})
        payloads.standard_post_parse(payload=payload)
        try:
            return _queue_answer(log)
        except IntegrityError:
            if not delivery_message_seen(source=source, message_id=msg_id):
                raise  # not a duplicate: the source itself is gone (see _receive)
            # A concurrent delivery of the same webhook-id was accepted first (unique constraint).
            log.record(outcome=Delivery.Outcome.DUPLICATE, status_code=200)
            return WebhookAnswer(200, {"status": "duplicate"})

    return handle


def standard_delivery_receive(*, request: WebhookRequest, now: float | None = None) -> WebhookAnswer:
    """Handle one Standard Webhooks delivery; `now` (unix seconds) defaults to the clock."""
    return _receive(
        endpoint="standard",
        kind=ForumSource.Kind.STANDARD,
        request=request,
        handle=_standard_handle_at(time.time() if now is None else now),
    )
