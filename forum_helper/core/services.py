from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from forum_helper.core.models import AuditLog


def audit_record(
    *,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditLog:
    """Write an audit row; call inside the transaction of the change it describes."""
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before,
        after=after,
        reason=reason,
    )
