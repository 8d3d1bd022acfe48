"""Webhook signature checks: pure functions over bytes, no Django.

Discourse: `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`,
key = base64-decoded secret after the `whsec_` prefix; a space-separated list during rotation.
"""
import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

STANDARD_SECRET_PREFIX = "whsec_"


def discourse_signature(*, secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def discourse_signature_valid(*, secrets: Iterable[str], body: bytes, header: str) -> bool:
    """True when the header matches the body under any of the secrets (rotation)."""
    header_bytes = header.strip().encode("utf-8", "replace")
    matched = False
    for secret in secrets:
        expected = discourse_signature(secret=secret, body=body).encode("ascii")
        # No early exit: every secret is compared, each in constant time.
        matched |= hmac.compare_digest(expected, header_bytes)
    return matched


def standard_secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret. Raises ValueError when it is not one."""
    if not secret.startswith(STANDARD_SECRET_PREFIX):
        raise ValueError(f"a Standard Webhooks secret starts with {STANDARD_SECRET_PREFIX!r}")
    encoded = secret[len(STANDARD_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"the part after {STANDARD_SECRET_PREFIX!r} must be valid base64") from error
    if not key:
        raise ValueError(f"the part after {STANDARD_SECRET_PREFIX!r} must not be empty")
    return key


def standard_signature(*, secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """`v1,<base64>` for one message, as the sender computes it."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class StandardCheck:
    """Outcome of checking one Standard Webhooks delivery; `problem` is empty when valid."""

    problem: str = ""
    status: int = 200

    @property
    def valid(self) -> bool:
        return not self.problem


def standard_timestamp_check(*, timestamp: str, now: float, tolerance_seconds: int) -> StandardCheck:
    """Reject non-integer timestamps and those more than the tolerance in the past or future."""
    if not timestamp.isascii() or not timestamp.strip().lstrip("-").isdigit() or len(timestamp) > 20:
        return StandardCheck("webhook-timestamp must be an integer number of seconds since the epoch.", 400)
    sent = int(timestamp)
    if sent < now - tolerance_seconds:
        return StandardCheck(f"webhook-timestamp is more than {tolerance_seconds} seconds old; the message is stale.", 400)
    if sent > now + tolerance_seconds:
        return StandardCheck(f"webhook-timestamp is more than {tolerance_seconds} seconds in the future; check the sender's clock.", 400)
    return StandardCheck()


def standard_signature_valid(*, secrets: Iterable[str], msg_id: str, timestamp: str, body: bytes, header: str) -> bool:
    """True when any `v1,` signature in the header matches under any secret (both may rotate)."""
    given = [token[3:].encode("ascii", "replace") for token in header.split() if token.startswith("v1,")]
    matched = False
    for secret in secrets:
        try:
            expected = standard_signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)[3:].encode("ascii")
        except ValueError:
            continue  # a malformed stored secret matches nothing
        for signature in given:
            matched |= hmac.compare_digest(expected, signature)
    return matched


def standard_verify(
    *,
    secrets: Iterable[str],
    msg_id: str,
    timestamp: str,
    body: bytes,
    header: str,
    now: float,
    tolerance_seconds: int,
) -> StandardCheck:
    """Timestamp first (stale or future -> 400), then the signature (401)."""
    timing = standard_timestamp_check(timestamp=timestamp, now=now, tolerance_seconds=tolerance_seconds)
    if not timing.valid:
        return timing
    if not standard_signature_valid(secrets=secrets, msg_id=msg_id, timestamp=timestamp, body=body, header=header):
        return StandardCheck("webhook-signature does not match any configured secret.", 401)
    return StandardCheck()
