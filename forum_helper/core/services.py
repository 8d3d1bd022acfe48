from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from forum_helper.core.models import AuditLog


def audit_row(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditLog:
    """An unsaved audit row: audit_record saves one, audit_rows_record many at once."""
    return AuditLog(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before,
        after=after,
        reason=reason,
    )


def audit_record(**fields: Any) -> AuditLog:
    """Write an audit row (audit_row's arguments); call inside the transaction of the change it describes."""
    row = audit_row(**fields)
    row.save(force_insert=True)
    return row


def audit_rows_record(*, rows: list[AuditLog]) -> list[AuditLog]:
    """Write rows built by audit_row in one INSERT; call inside the transaction of the changes."""
    return AuditLog.objects.bulk_create(rows)
