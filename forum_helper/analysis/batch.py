"""The batch JSONL interface: one input record in, one output record out (pure)."""

from __future__ import annotations

from typing import Any, Mapping

from forum_helper.analysis.engine import analyze
from forum_helper.analysis.model import AUTHOR_ROLES, Analysis, PostContext, PostInput
from forum_helper.analysis.ruleset import CompiledRuleset

OUTPUT_KEYS = ("id", "risky", "severity", "stance", "categories", "modifiers", "evidence", "explanation", "references", "rule_ids")


class BatchRecordError(ValueError):
    """An input record cannot be analysed; the message says which field and why."""


def record_to_inputs(record: Mapping[str, Any]) -> tuple[PostInput, PostContext]:
    """Validate a batch record (`id`, `text`, optional `author_role`, `thread_title`, `parent_text`)."""
    if not isinstance(record, Mapping):
        raise BatchRecordError(f"record must be a JSON object, got {type(record).__name__}")
    record_id = record.get("id")
    where = f"record {record_id!r}" if record_id is not None else "record without id"
    if "text" not in record:
        raise BatchRecordError(f"{where}: missing required key 'text'")
    text = record["text"]
    if not isinstance(text, str):
        raise BatchRecordError(f"{where}: 'text' must be a string, got {type(text).__name__}")
    author_role = record.get("author_role", "member")
    if author_role is None:
        author_role = "member"
    if author_role not in AUTHOR_ROLES:
        raise BatchRecordError(f"{where}: 'author_role' must be one of {', '.join(AUTHOR_ROLES)}, got {author_role!r}")
    optional_text: dict[str, str] = {}
    for key in ("thread_title", "parent_text"):
        value = record.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise BatchRecordError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
        optional_text[key] = value
    return (
        PostInput(text=text, author_role=author_role),
        PostContext(thread_title=optional_text["thread_title"], parent_text=optional_text["parent_text"]),
    )


def analysis_to_record(record_id: Any, analysis: Analysis) -> dict[str, Any]:
    result = analysis.to_dict()
    return {
        "id": record_id,
        "risky": result["risky"],
        "severity": result["severity"],
        "stance": result["stance"],
        "categories": result["categories"],
        "modifiers": result["modifiers"],
        "evidence": result["evidence"],
        "explanation": result["explanation"],
        # Reference passages are linked by the library app, which owns them.
        "references": [],
        "rule_ids": result["rule_ids"],
    }


def analyze_record(record: Mapping[str, Any], ruleset: CompiledRuleset) -> dict[str, Any]:
    """Analyse one batch record; raises BatchRecordError for a bad record."""
    post, context = record_to_inputs(record)
    return analysis_to_record(record.get("id"), analyze(post, context, ruleset))
