"""Writes of rules. Every change compiles the would-be ruleset first, then records an immutable
revision, a new ruleset version and an audit row, all in one transaction."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.services import audit_record
from forum_helper.rules.models import Backtest, Rule, RuleRevision, RulesetVersion
from forum_helper.rules.validation import rule_record_validate, ruleset_compile_check

logger = logging.getLogger(__name__)

UNSET: object = object()  # "leave this field as it is" (None is a valid category)


@dataclass(frozen=True)
class RuleChange:
    rule: Rule
    revision: RuleRevision | None  # None: the record was already like that, nothing was written
    ruleset_version: RulesetVersion | None


def _rule_change_apply(
    *, actor: AbstractBaseUser | None, record: dict[str, Any], action: str, reason: str
) -> RuleChange:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required for every rule change.")
    record = rule_record_validate(record=record)
    with transaction.atomic():
        # Lock order: the version row first (all changes), then the rule.
        latest = RulesetVersion.objects.select_for_update().order_by("-number").first()
        rule = Rule.objects.select_for_update().filter(rule_id=record["id"]).first()
        before = rule.as_record() if rule is not None else None
        if action == "rule.create" and rule is not None:
            raise ApplicationError(f"A rule with id {record['id']} already exists.")
        if action != "rule.create" and rule is None:
            raise ApplicationError(f"There is no rule {record['id']}.", status=404)
        if before == record:
            return RuleChange(rule=rule, revision=None, ruleset_version=None)

        others = [r.as_record() for r in Rule.objects.exclude(rule_id=record["id"]).order_by("position", "pk")]
        ruleset_compile_check(records=[*others, record], changed_id=record["id"])

        version = RulesetVersion.objects.create(
            number=(latest.number if latest else 0) + 1,
            actor=actor if actor is not None and actor.is_authenticated else None,
            summary=f"{action} {record['id']}: {reason}"[:500],
        )
        if rule is None:
            position = (Rule.objects.aggregate(top=Max("position"))["top"] or 0) + 1
            rule = Rule(rule_id=record["id"], position=position)
        rule.kind = record["kind"]
        rule.category = record["category"]
        rule.mode = record["mode"]
        rule.description = record["description"]
        rule.data = record["data"]
        rule.full_clean(exclude=["current_revision"])
        rule.save()
        number = (rule.revisions.aggregate(top=Max("number"))["top"] or 0) + 1
        revision = RuleRevision.objects.create(
            rule=rule,
            number=number,
            snapshot=record,
            actor=version.actor,
            reason=reason,
            ruleset_version=version,
        )
        rule.current_revision = revision
        rule.save(update_fields=["current_revision", "updated_at"])
        audit_record(
            actor=actor,
            action=action,
            target=rule,
            before=before,
            after={**record, "revision": number, "ruleset_version": version.number},
            reason=reason,
        )
    return RuleChange(rule=rule, revision=revision, ruleset_version=version)


def rule_create(*, actor: AbstractBaseUser | None, record: dict[str, Any], reason: str) -> RuleChange:
    """Add a rule (revision 1) and a new ruleset version."""
    return _rule_change_apply(actor=actor, record=record, action="rule.create", reason=reason)


def rule_update(
    *,
    actor: AbstractBaseUser | None,
    rule: Rule,
    reason: str,
    kind: str | None = None,
    category: "str | None | object" = UNSET,
    mode: str | None = None,
    description: str | None = None,
    data: dict[str, Any] | None = None,
) -> RuleChange:
    """Change some fields of a rule; unchanged fields keep their value. No-op changes write nothing."""
    record = rule.as_record()
    if kind is not None:
        record["kind"] = kind
    if category is not UNSET:
        record["category"] = category
    if mode is not None:
        record["mode"] = mode
    if description is not None:
        record["description"] = description
    if data is not None:
        record["data"] = data
    current = rule.as_record()
    differing = {key for key in record if record[key] != current[key]}
    action = "rule.mode_set" if differing == {"mode"} else "rule.update"
    return _rule_change_apply(actor=actor, record=record, action=action, reason=reason)


def rule_mode_set(*, actor: AbstractBaseUser | None, rule: Rule, mode: str, reason: str) -> RuleChange:
    return rule_update(actor=actor, rule=rule, mode=mode, reason=reason)


def rule_rollback(*, actor: AbstractBaseUser | None, rule: Rule, revision_number: int, reason: str) -> RuleChange:
    """Make an earlier revision current again, as a new revision (history is never rewritten)."""
    target = rule.revisions.filter(number=revision_number).first()
    if target is None:
        raise ApplicationError(f"{rule.rule_id} has no revision {revision_number}.", status=404)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required for every rule change.")
    return _rule_change_apply(
        actor=actor, record=dict(target.snapshot), action="rule.rollback", reason=f"rollback to rev {revision_number}: {reason}"
    )


# --- backtests -----------------------------------------------------------------------------

# A backtest left "running" this long by a killed worker may be claimed again (acks_late redelivery).
BACKTEST_STALE_AFTER = timedelta(minutes=30)


def backtest_create(
    *,
    actor: AbstractBaseUser | None,
    record: dict[str, Any] | None = None,
    rule_id: str | None = None,
    mode: str | None = None,
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
) -> Backtest:
    """Store a backtest of a proposed change and run it after commit (a Celery task)."""
    from forum_helper.rules.backtest import change_resolve

    change = change_resolve(record=record, rule_id=rule_id, mode=mode)  # refuses invalid changes
    if since and until and since > until:
        raise ApplicationError("'since' must not be after 'until'.")
    params = {
        "record": change.new_record if record is not None else None,
        "rule_id": change.changed_id,
        "mode": mode,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "source": source or None,
    }
    with transaction.atomic():
        backtest = Backtest(params=params, created_by=actor if actor is not None and actor.is_authenticated else None)
        backtest.full_clean()
        backtest.save()
        audit_record(actor=actor, action="backtest.create", target=backtest, after=params)
        transaction.on_commit(lambda: _backtest_publish(backtest_id=backtest.pk), robust=True)
    return backtest


def _backtest_publish(*, backtest_id: int) -> None:
    from forum_helper.rules.tasks import backtest_run_task

    backtest_run_task.delay(backtest_id)


def backtest_run(*, backtest_id: int) -> Backtest:
    """Run a stored backtest once; a second delivery of the task finds it claimed and returns."""
    from forum_helper.rules.backtest import BacktestFilters, backtest_compute, change_resolve

    now = timezone.now()
    claimed = (
        Backtest.objects.filter(pk=backtest_id)
        .filter(Q(status=Backtest.Status.PENDING) | Q(status=Backtest.Status.RUNNING, started_at__lt=now - BACKTEST_STALE_AFTER))
        .update(status=Backtest.Status.RUNNING, started_at=now, processed=0, error="")
    )
    backtest = Backtest.objects.get(pk=backtest_id)
    if not claimed:
        return backtest
    params = backtest.params

    def progress(processed: int, total: int) -> None:
        Backtest.objects.filter(pk=backtest_id).update(processed=processed, total=total)

    try:
        change = change_resolve(record=params.get("record"), rule_id=params.get("rule_id"), mode=params.get("mode"))
        filters = BacktestFilters(
            since=date.fromisoformat(params["since"]) if params.get("since") else None,
            until=date.fromisoformat(params["until"]) if params.get("until") else None,
            source=params.get("source"),
        )
        result = backtest_compute(change=change, filters=filters, progress=progress)
    except ApplicationError as error:
        # The rules changed since the backtest was asked for and the change no longer applies.
        Backtest.objects.filter(pk=backtest_id).update(
            status=Backtest.Status.FAILED, error=error.message, finished_at=timezone.now()
        )
    except Exception as error:  # recorded on the backtest; a retry would only find it claimed
        logger.exception("backtest %s failed", backtest_id)
        Backtest.objects.filter(pk=backtest_id).update(
            status=Backtest.Status.FAILED, error=f"{type(error).__name__}: {error}", finished_at=timezone.now()
        )
    else:
        Backtest.objects.filter(pk=backtest_id).update(
            status=Backtest.Status.DONE, result=result, finished_at=timezone.now()
        )
    backtest.refresh_from_db()
    return backtest


def ruleset_import(*, actor: AbstractBaseUser | None, records: list[dict[str, Any]], reason: str) -> RulesetVersion | None:
    """Bring rules in line with a list of records (e.g. an updated default_ruleset.json) as ONE
    new ruleset version: new rules are created, changed ones get a revision, rules absent from
    the list are left as they are. None when nothing differs.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("A reason is required for every rule change.")
    normalised = [rule_record_validate(record=record) for record in records]
    ids = [record["id"] for record in normalised]
    if len(set(ids)) != len(ids):
        raise ApplicationError("The records repeat a rule id.")
    with transaction.atomic():
        latest = RulesetVersion.objects.select_for_update().order_by("-number").first()
        current = {rule.rule_id: rule for rule in Rule.objects.select_for_update().order_by("position", "pk")}
        changed = [record for record in normalised if current.get(record["id"]) is None or current[record["id"]].as_record() != record]
        if not changed:
            return None
        incoming = {record["id"]: record for record in normalised}
        would_be = [incoming.get(rule_id, rule.as_record()) for rule_id, rule in current.items()]
        would_be += [record for record in normalised if record["id"] not in current]
        ruleset_compile_check(records=would_be, changed_ids=frozenset(record["id"] for record in changed))
        version = RulesetVersion.objects.create(
            number=(latest.number if latest else 0) + 1,
            actor=actor if actor is not None and actor.is_authenticated else None,
            summary=f"import of {len(changed)} rule(s): {reason}"[:500],
        )
        position = max((rule.position for rule in current.values()), default=0)
        for record in changed:
            rule = current.get(record["id"])
            before = rule.as_record() if rule is not None else None
            if rule is None:
                position += 1
                rule = Rule(rule_id=record["id"], position=position)
            rule.kind, rule.category, rule.mode = record["kind"], record["category"], record["mode"]
            rule.description, rule.data = record["description"], record["data"]
            rule.full_clean(exclude=["current_revision"])
            rule.save()
            number = (rule.revisions.aggregate(top=Max("number"))["top"] or 0) + 1
            revision = RuleRevision.objects.create(
                rule=rule, number=number, snapshot=record, actor=version.actor, reason=reason, ruleset_version=version
            )
            rule.current_revision = revision
            rule.save(update_fields=["current_revision", "updated_at"])
            audit_record(
                actor=actor,
                action="rule.import",
                target=rule,
                before=before,
                after={**record, "revision": number, "ruleset_version": version.number},
                reason=reason,
            )
    return version
