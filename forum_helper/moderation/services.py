"""Writes on the moderation queue. Each change: one transaction, version-checked, one audit row."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import is_admin
from forum_helper.core.services import audit_record, audit_row, audit_rows_record
from forum_helper.intake.models import AuthorRole, Post
from forum_helper.moderation.models import Decision, Note, QueueItem
from forum_helper.screening.models import Finding

SEVERITY_BASE = {"high": 1000, "medium": 500, "low": 100, "none": 0}
STAFF_BONUS = 50
CATEGORY_BONUS, CATEGORY_BONUS_MAX = 5, 20


class StaleVersionError(ApplicationError):
    """The item changed since the caller loaded it (HTTP 409)."""


def priority_compute(*, severity: str, is_staff_author: bool, categories: list[str],
                     post_created_at: datetime | None, reference_time: datetime) -> int:
    """The formula documented on QueueItem."""
    priority = SEVERITY_BASE.get(severity, 0)
    if is_staff_author:
        priority += STAFF_BONUS
    age = reference_time - post_created_at if post_created_at else timedelta(0)
    if age < timedelta(days=1):
        priority += 30
    elif age < timedelta(days=7):
        priority += 15
    priority += min(len(categories) * CATEGORY_BONUS, CATEGORY_BONUS_MAX)
    return priority


def _item_state(item: QueueItem) -> dict:
    return {
        "status": item.status,
        "lane": item.lane,
        "severity": item.severity,
        "priority": item.priority,
        "finding_id": item.finding_id,
        "claimed_by": item.claimed_by_id,
        "version": item.version,
        "edited_since_decision": item.edited_since_decision,
    }


def _is_staff(post: Post) -> bool:
    return post.author_role == AuthorRole.STAFF


def queue_item_sync_for_finding(*, finding: Finding) -> QueueItem | None:
    """Create, update or re-open the queue item of the finding's post.

    Severity none creates nothing; a risky finding goes to the risk lane, a low non-risky one
    to the low/context lane. A finding on a newer post version marks the item edited and
    re-opens it when it was resolved.
    """
    return queue_items_sync_for_findings(findings=[finding])[0]


def queue_items_sync_for_findings(*, findings: list[Finding]) -> list[QueueItem | None]:
    """queue_item_sync_for_finding for many findings (at most one per post), in one transaction.

    Called by screening inside its transaction with each finding's post_version.post loaded.
    New items are inserted together (with their audit rows); existing items are changed one
    by one. Returns the item (or None) of each finding, in order.
    """
    now = timezone.now()
    # Joins the caller's transaction (screening; no savepoint: a failure fails the whole batch),
    # atomic here too so a direct call is safe alone.
    with transaction.atomic(savepoint=False):
        # Lock the existing items so two screenings of one post update it one at a time.
        post_ids = [finding.post_version.post_id for finding in findings]
        items = {
            item.post_id: item
            for item in QueueItem.objects.select_for_update().select_related("finding__post_version")
            .filter(post_id__in=post_ids).order_by("pk")
        }
        results: list[QueueItem | None] = []
        created: list[tuple[QueueItem, Finding]] = []
        for finding in findings:
            item = items.get(finding.post_version.post_id)
            if item is None:
                item = _queue_item_new(finding=finding, now=now)
                if item is not None:
                    created.append((item, finding))
            else:
                _queue_item_update(item=item, finding=finding, now=now)
            results.append(item)
        if created:
            QueueItem.objects.bulk_create([item for item, _ in created])
            audit_rows_record(rows=[
                audit_row(actor=None, action="queue_item.created", target=item, after=_item_state(item),
                          reason=f"finding #{finding.pk}")
                for item, finding in created
            ])
    return results


def _queue_item_new(*, finding: Finding, now: datetime) -> QueueItem | None:
    """The unsaved, validated item of a post that has none; None when the finding needs none."""
    if finding.severity == Finding.Severity.NONE and not finding.risky:
        return None
    post = finding.post_version.post
    categories = list(finding.categories or [])
    is_staff = _is_staff(post)
    item = QueueItem(
        post=post, finding=finding, lane=QueueItem.Lane.RISK if finding.risky else QueueItem.Lane.LOW,
        severity=finding.severity, is_staff_author=is_staff, categories=categories,
        category_keys=_category_keys(categories),
        priority=priority_compute(severity=finding.severity, is_staff_author=is_staff, categories=categories,
                                  post_created_at=post.created_at, reference_time=now),
    )
    item.full_clean(exclude=["post", "finding"])
    return item


def _queue_item_update(*, item: QueueItem, finding: Finding, now: datetime) -> None:
    """Point a locked existing item at a new finding of its post, with its audit row."""
    if item.finding_id == finding.pk:
        return
    post = finding.post_version.post
    new_version = finding.post_version.version
    categories = list(finding.categories or [])
    lane = QueueItem.Lane.RISK if finding.risky else QueueItem.Lane.LOW
    before = _item_state(item)
    is_newer_text = new_version > item.finding.post_version.version
    if finding.severity == Finding.Severity.NONE and not finding.risky:
        # The text no longer triggers anything: keep the item (and its history) but say so.
        lane = item.lane
    item.finding = finding
    item.lane = lane
    item.severity = finding.severity
    item.categories = categories
    item.category_keys = _category_keys(categories)
    item.is_staff_author = _is_staff(post)
    item.priority = priority_compute(severity=finding.severity, is_staff_author=item.is_staff_author,
                                     categories=categories, post_created_at=post.created_at,
                                     reference_time=item.created_at or now)
    action = "queue_item.updated"
    if is_newer_text:
        reviewed = item.decisions.filter(undone=False).exists()
        if reviewed:
            item.edited_since_decision = True
        if item.status == QueueItem.Status.RESOLVED and finding.severity != Finding.Severity.NONE:
            item.status = QueueItem.Status.OPEN
            action = "queue_item.reopened"
    item.version += 1
    item.updated_by = None
    item.save()
    audit_record(actor=None, action=action, target=item, before=before, after=_item_state(item),
                 reason=f"finding #{finding.pk} on post version {new_version}")


def _category_keys(categories: list[str]) -> str:
    return f",{','.join(categories)}," if categories else ""


def _lock_item(*, item_id: int, expected_version: int | None) -> QueueItem:
    """The item, row-locked until the transaction ends; raises on a stale version."""
    item = QueueItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise ApplicationError("This queue item does not exist.", status=404)
    if expected_version is not None and item.version != expected_version:
        raise _stale(item=item, expected_version=expected_version)
    return item


def _stale(*, item: QueueItem, expected_version: int) -> StaleVersionError:
    who = item.updated_by.get_username() if item.updated_by_id and item.updated_by else "the screening system"
    when = timezone.localtime(item.updated_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    return StaleVersionError(
        f"This item was changed by {who} at {when} after you loaded it (your version {expected_version}, "
        f"now {item.version}). Reload it, check what changed, and try again.",
        status=409,
        extra={"changed_by": who, "changed_at": item.updated_at.isoformat(), "current_version": item.version,
               "your_version": expected_version},
    )


def _user_label(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None else "someone"


def queue_item_claim(*, item_id: int, actor: AbstractBaseUser, expected_version: int | None = None) -> QueueItem:
    """Claim an open (or escalated) unclaimed item. Race-safe: a conditional UPDATE; one caller wins."""
    now = timezone.now()
    with transaction.atomic():
        claimable = QueueItem.objects.filter(
            pk=item_id, claimed_by__isnull=True, status__in=[QueueItem.Status.OPEN, QueueItem.Status.ESCALATED]
        )
        if expected_version is not None:
            claimable = claimable.filter(version=expected_version)
        # The UPDATE's row lock serialises concurrent claims; the loser re-checks the WHERE and matches 0 rows.
        won = claimable.update(claimed_by=actor, claimed_at=now, updated_by=actor, updated_at=now,
                               version=F("version") + 1)
        item = QueueItem.objects.select_related("claimed_by", "updated_by").filter(pk=item_id).first()
        if item is None:
            raise ApplicationError("This queue item does not exist.", status=404)
        if not won:
            if item.claimed_by_id == actor.pk:
                raise ApplicationError("You have already claimed this item.", status=409)
            if item.claimed_by_id is not None:
                when = timezone.localtime(item.claimed_at).strftime("%Y-%m-%d %H:%M:%S %Z") if item.claimed_at else ""
                raise ApplicationError(
                    f"{_user_label(item.claimed_by)} claimed this item first (at {when}).", status=409,
                    extra={"claimed_by": _user_label(item.claimed_by)},
                )
            if item.status == QueueItem.Status.RESOLVED:
                raise ApplicationError("This item is resolved; there is nothing to claim.", status=409)
            raise _stale(item=item, expected_version=expected_version or 0)
        if item.status == QueueItem.Status.OPEN:
            QueueItem.objects.filter(pk=item_id).update(status=QueueItem.Status.CLAIMED)
            item.status = QueueItem.Status.CLAIMED
        audit_record(actor=actor, action="queue_item.claimed", target=item,
                     before={"claimed_by": None, "version": item.version - 1}, after=_item_state(item))
    return item


def queue_item_unclaim(*, item_id: int, actor: AbstractBaseUser, expected_version: int | None = None) -> QueueItem:
    """Give a claimed item back to the queue (the claimer, or an admin)."""
    with transaction.atomic():
        item = _lock_item(item_id=item_id, expected_version=expected_version)
        if item.claimed_by_id is None:
            raise ApplicationError("This item is not claimed.", status=409)
        if item.claimed_by_id != actor.pk and not is_admin(actor):
            raise ApplicationError(f"Only {_user_label(item.claimed_by)} or an admin can unclaim this item.", status=403)
        before = _item_state(item)
        item.claimed_by = None
        item.claimed_at = None
        if item.status == QueueItem.Status.CLAIMED:
            item.status = QueueItem.Status.OPEN
        item.version += 1
        item.updated_by = actor
        item.save()
        audit_record(actor=actor, action="queue_item.unclaimed", target=item, before=before, after=_item_state(item))
    return item


def decision_create(*, item_id: int, actor: AbstractBaseUser, kind: str, reason: str, action_taken: str = "",
                    expected_version: int | None) -> Decision:
    """Confirm, dismiss or escalate the item's current finding; enqueues the outgoing webhook on commit."""
    reason = (reason or "").strip()
    if kind not in Decision.Kind.values:
        raise ApplicationError(f"Unknown decision {kind!r}.", extra={"field": "kind"})
    if not reason:
        raise ApplicationError("A reason is required for every decision.", extra={"field": "reason"})
    if kind == Decision.Kind.CONFIRM and action_taken not in {"removed", "edited", "replied"}:
        raise ApplicationError("Confirming needs the action taken: removed, edited or replied.",
                               extra={"field": "action_taken"})
    if kind != Decision.Kind.CONFIRM:
        action_taken = ""
    with transaction.atomic():
        item = _lock_item(item_id=item_id, expected_version=expected_version)
        if item.claimed_by_id not in (None, actor.pk):
            raise ApplicationError(f"{_user_label(item.claimed_by)} has claimed this item; ask them or unclaim it first.",
                                   status=409)
        if item.status == QueueItem.Status.RESOLVED:
            raise ApplicationError("This item is already resolved; undo the last decision to change it.", status=409)
        if item.status == QueueItem.Status.ESCALATED and kind == Decision.Kind.ESCALATE:
            raise ApplicationError("This item is already escalated.", status=409)
        before = _item_state(item)
        decision = Decision(item=item, finding_id=item.finding_id, kind=kind, reason=reason, action_taken=action_taken,
                            actor=actor, previous_status=item.status, previous_claimed_by_id=item.claimed_by_id)
        decision.full_clean(exclude=["item", "finding", "actor", "previous_claimed_by"])
        decision.save()
        now = timezone.now()
        item.status = QueueItem.Status.ESCALATED if kind == Decision.Kind.ESCALATE else QueueItem.Status.RESOLVED
        if item.status == QueueItem.Status.RESOLVED:
            item.claimed_by = None
            item.claimed_at = None
        item.first_reviewed_at = item.first_reviewed_at or now
        item.edited_since_decision = False
        item.version += 1
        item.updated_by = actor
        item.save()
        audit_record(actor=actor, action=f"decision.{kind}", target=item, before=before,
                     after={**_item_state(item), "decision_id": decision.pk, "action_taken": action_taken},
                     reason=reason)
        _webhook_enqueue(decision=decision)
    return decision


def _webhook_enqueue(*, decision: Decision, undone: bool = False) -> None:
    """Queue the outgoing webhook for a decision (or for its undo) once the transaction commits."""
    from forum_helper.moderation.tasks import decision_undone_webhook_task, decision_webhook_task

    task = decision_undone_webhook_task if undone else decision_webhook_task
    if decision.item.post.source.outgoing_webhook_url:
        decision_id = decision.pk
        # Only once the decision (or undo) is committed: the task reads it, and a rollback must send nothing.
        transaction.on_commit(lambda: task.delay(decision_id), robust=True)


@dataclass(frozen=True)
class BulkResult:
    decided: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def decisions_bulk_create(*, actor: AbstractBaseUser, items: list[tuple[int, int | None]], kind: str, reason: str,
                          action_taken: str = "") -> BulkResult:
    """The same decision on many items; each item in its own transaction, failures reported per item."""
    result = BulkResult()
    for item_id, expected_version in items:
        try:
            decision_create(item_id=item_id, actor=actor, kind=kind, reason=reason, action_taken=action_taken,
                            expected_version=expected_version)
        except ApplicationError as error:
            result.failed[item_id] = error.message
        else:
            result.decided.append(item_id)
    return result


def decision_undo(*, item_id: int, actor: AbstractBaseUser, expected_version: int | None) -> Decision:
    """Undo the item's last decision (by its author or an admin) and restore the item's previous state.

    Like a decision, the undo tells the post's forum (outgoing webhook, enqueued on commit).
    """
    with transaction.atomic():
        item = _lock_item(item_id=item_id, expected_version=expected_version)
        decision = item.decisions.filter(undone=False).order_by("-created_at", "-id").first()
        if decision is None:
            raise ApplicationError("There is no decision to undo.", status=409)
        if decision.actor_id != actor.pk and not is_admin(actor):
            raise ApplicationError("Only the moderator who decided, or an admin, can undo this decision.", status=403)
        before = _item_state(item)
        decision.undone = True
        decision.undone_at = timezone.now()
        decision.undone_by = actor
        decision.save(update_fields=["undone", "undone_at", "undone_by"])
        item.status = decision.previous_status
        item.claimed_by_id = decision.previous_claimed_by_id
        item.claimed_at = item.claimed_at if item.claimed_by_id else None
        if item.claimed_by_id and item.claimed_at is None:
            item.claimed_at = timezone.now()
        item.version += 1
        item.updated_by = actor
        item.save()
        audit_record(actor=actor, action="decision.undone", target=item, before=before,
                     after={**_item_state(item), "decision_id": decision.pk}, reason=f"undo {decision.kind}")
        _webhook_enqueue(decision=decision, undone=True)
    return decision


def note_create(*, item_id: int, actor: AbstractBaseUser, text: str, expected_version: int | None = None) -> Note:
    """Add a moderator note to an item."""
    text = (text or "").strip()
    if not text:
        raise ApplicationError("A note needs some text.", extra={"field": "text"})
    with transaction.atomic():
        item = _lock_item(item_id=item_id, expected_version=expected_version)
        note = Note(item=item, author=actor, text=text)
        note.full_clean(exclude=["item", "author"])
        note.save()
        item.version += 1
        item.updated_by = actor
        item.save(update_fields=["version", "updated_by", "updated_at"])
        audit_record(actor=actor, action="queue_item.note_added", target=item, after={"note_id": note.pk}, reason=text)
    return note
