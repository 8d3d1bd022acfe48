"""Checks a rule change must pass before anything is stored: record shape, size, and compiling."""
from __future__ import annotations

import json
import re
from typing import Any

from forum_helper.analysis import RulesetError, compile_ruleset
from forum_helper.core.exceptions import ApplicationError
from forum_helper.rules.models import RuleMode

RULE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,119}$")
# A rule's record is kept small: compiled RE2 programs grow with it, and so does every screening.
MAX_RECORD_BYTES = 64 * 1024
# Path segments of the rules pages; a rule with one of these ids would be unreachable.
RESERVED_IDS = frozenset({"new", "api", "backtests", "versions"})
RECORD_KEYS = ("id", "kind", "category", "mode", "description", "data")


def rule_record_validate(*, record: Any) -> dict[str, Any]:
    """Check a rule record's shape and return it normalised (only the known keys)."""
    if not isinstance(record, dict):
        raise ApplicationError("A rule must be a JSON object.")
    unknown = sorted(set(record) - set(RECORD_KEYS))
    if unknown:
        raise ApplicationError(f"Unknown rule fields: {', '.join(unknown)}.", extra={"fields": unknown})
    rule_id = record.get("id")
    if not isinstance(rule_id, str) or not RULE_ID_RE.match(rule_id):
        raise ApplicationError("The rule id must be 1-120 characters: letters, digits, '.', ':', '_' or '-'.")
    if rule_id in RESERVED_IDS:
        raise ApplicationError(f"The rule id {rule_id!r} is reserved; choose another.")
    kind = record.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ApplicationError(f"Rule {rule_id}: 'kind' must be a non-empty string.")
    category = record.get("category")
    if category is not None and (not isinstance(category, str) or not category):
        raise ApplicationError(f"Rule {rule_id}: 'category' must be a non-empty string or null.")
    mode = record.get("mode", RuleMode.ACTIVE)
    if mode not in RuleMode.values:
        raise ApplicationError(f"Rule {rule_id}: 'mode' must be one of {', '.join(RuleMode.values)}.")
    description = record.get("description", "")
    if not isinstance(description, str):
        raise ApplicationError(f"Rule {rule_id}: 'description' must be a string.")
    data = record.get("data", {})
    if not isinstance(data, dict):
        raise ApplicationError(f"Rule {rule_id}: 'data' must be a JSON object.")
    normalised = {"id": rule_id, "kind": kind, "category": category, "mode": str(mode), "description": description, "data": data}
    size = len(json.dumps(normalised, ensure_ascii=False).encode("utf-8"))
    if size > MAX_RECORD_BYTES:
        raise ApplicationError(
            f"Rule {rule_id} is too large ({size} bytes; the limit is {MAX_RECORD_BYTES}). Split it into several rules."
        )
    return normalised


def ruleset_compile_check(*, records: list[dict[str, Any]], changed_id: str | None = None, changed_ids: frozenset[str] = frozenset()) -> None:
    """Compile the would-be ruleset (active and shadow rules) and refuse it with the reason when invalid.

    The changed rules are compiled as active even when their new mode is disabled, so a rule
    is never stored with a pattern that could not run.
    """
    changed = set(changed_ids) | ({changed_id} if changed_id else set())
    to_compile = []
    for record in records:
        if record["id"] in changed and record["mode"] == RuleMode.DISABLED:
            record = {**record, "mode": RuleMode.ACTIVE}
        if record["mode"] in (RuleMode.ACTIVE, RuleMode.SHADOW):
            to_compile.append(record)
    try:
        compile_ruleset(to_compile, version=0, include_shadow=True)
    except RulesetError as error:
        bad_rule = getattr(error, "rule_id", None) or changed_id or ", ".join(sorted(changed))
        message = getattr(error, "message", None) or str(error)
        raise ApplicationError(f"Rule {bad_rule} is refused: {message}", extra={"rule_id": bad_rule}) from error
    except Exception as error:  # malformed `data` can fail anywhere in the compiler; refuse, don't crash
        named = changed_id or ", ".join(sorted(changed))
        raise ApplicationError(
            f"Rule {named} is refused: its data does not compile ({type(error).__name__}: {error}).",
            extra={"rule_id": named},
        ) from error
