"""Server-rendered rules admin pages (admins only). Views translate; services and selectors work."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forum_helper.analysis import PostContext, PostInput, analyze
from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import is_admin
from forum_helper.rules import selectors, services
from forum_helper.rules.forms import BacktestForm, RollbackForm, RuleCreateForm, RuleEditForm, TryForm
from forum_helper.rules.highlight import highlight_segments
from forum_helper.rules.models import Backtest, RuleRevision

# The list page counts hits over this window (it reads every finding in it).
HITS_WINDOW = timedelta(days=30)


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users without the admin role get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_admin(request.user):
            raise PermissionDenied("Admin role required.")
        return view(request, *args, **kwargs)

    return wrapped


def _rule_or_404(rule_id: str):
    rule = selectors.rule_get(rule_id=rule_id)
    if rule is None:
        raise Http404(f"No rule {rule_id}")
    return rule


@admin_required
@require_http_methods(["GET", "POST"])
def rule_list_view(request: HttpRequest) -> HttpResponse:
    """All rules with hits and precision, and a "try it" box that analyses a pasted post."""
    try_form = TryForm(request.POST or None)
    tried = None
    if request.method == "POST" and try_form.is_valid():
        ruleset = selectors.ruleset_active()
        text = try_form.cleaned_data["text"]
        analysis = analyze(
            PostInput(text=text, author_role=try_form.cleaned_data["author_role"]),
            PostContext(thread_title=try_form.cleaned_data["thread_title"]),
            ruleset.compiled,
        )
        tried = {
            "analysis": analysis,
            "version": ruleset.version,
            "segments": highlight_segments(text, [(e.start, e.end, f"{e.category} · {e.rule}") for e in analysis.evidence]),
        }
    hits = selectors.rule_hit_counts(since=timezone.now() - HITS_WINDOW)
    precision = selectors.rule_precision()
    rows = []
    for rule in selectors.rule_list():
        rule_hits = hits.get(rule.rule_id)
        rule_precision = precision.get(rule.rule_id)
        rows.append(
            {
                "rule": rule,
                "hits": rule_hits.hits if rule_hits else 0,
                "shadow_hits": rule_hits.shadow_hits if rule_hits else 0,
                "precision": rule_precision,
            }
        )
    return render(
        request,
        "rules/rule_list.html",
        {
            "rows": rows,
            "version": selectors.ruleset_version_latest(),
            "try_form": try_form,
            "tried": tried,
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def rule_create_view(request: HttpRequest) -> HttpResponse:
    form = RuleCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.rule_create(
                actor=request.user, record=form.cleaned_data["record"], reason=form.cleaned_data["reason"]
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Rule {change.rule.rule_id} created (ruleset v{change.ruleset_version.number}).")
            return redirect("rules:detail", rule_id=change.rule.rule_id)
    return render(request, "rules/rule_create.html", {"form": form}, status=400 if form.errors else 200)


@admin_required
@require_http_methods(["GET", "POST"])
def rule_detail_view(request: HttpRequest, rule_id: str) -> HttpResponse:
    """Edit form (save, or backtest the edit first), history with diffs and rollback."""
    rule = _rule_or_404(rule_id)
    initial = {"mode": rule.mode, "category": rule.category or "", "description": rule.description, "data": _json(rule.data)}
    form = RuleEditForm(request.POST or None, initial=initial)
    backtest_form = BacktestForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and backtest_form.is_valid():
        fields = {
            "mode": form.cleaned_data["mode"],
            "category": form.cleaned_data["category"] or None,
            "description": form.cleaned_data["description"],
            "data": form.cleaned_data["data"],
        }
        try:
            if request.POST.get("action") == "backtest":
                backtest = services.backtest_create(
                    actor=request.user,
                    record={**rule.as_record(), **fields},
                    since=backtest_form.cleaned_data["since"],
                    until=backtest_form.cleaned_data["until"],
                    source=backtest_form.cleaned_data["source"],
                )
                return redirect("rules:backtest", backtest_id=backtest.pk)
            change = services.rule_update(actor=request.user, rule=rule, reason=form.cleaned_data["reason"], **fields)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if change.revision is None:
                messages.info(request, "Nothing changed; no revision was recorded.")
            else:
                messages.success(
                    request,
                    f"Saved revision {change.revision.number}; ruleset is now v{change.ruleset_version.number}.",
                )
            return redirect("rules:detail", rule_id=rule.rule_id)
    revisions = list(selectors.rule_revisions(rule=rule))
    return render(
        request,
        "rules/rule_detail.html",
        {
            "rule": rule,
            "form": form,
            "backtest_form": backtest_form,
            "revisions": revisions,
            "hits_by_day": selectors.rule_hits_by_day(rule_id=rule.rule_id, days=30),
            "rollback_form": RollbackForm(),
        },
        status=400 if form.errors else 200,
    )


@admin_required
@require_POST
def rule_rollback_view(request: HttpRequest, rule_id: str) -> HttpResponse:
    rule = _rule_or_404(rule_id)
    form = RollbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A rollback needs the revision number and a reason.")
        return redirect("rules:detail", rule_id=rule.rule_id)
    try:
        change = services.rule_rollback(
            actor=request.user,
            rule=rule,
            revision_number=form.cleaned_data["revision"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if change.revision is None:
            messages.info(request, f"Revision {form.cleaned_data['revision']} is already current; nothing changed.")
        else:
            messages.success(request, f"Rolled back: revision {change.revision.number} restores revision {form.cleaned_data['revision']}.")
    return redirect("rules:detail", rule_id=rule.rule_id)


def _int_param(request: HttpRequest, name: str) -> int:
    try:
        return int(request.GET[name])
    except (KeyError, ValueError):
        raise Http404(f"'{name}' must be a revision number") from None


@admin_required
@require_GET
def rule_diff_view(request: HttpRequest, rule_id: str) -> HttpResponse:
    rule = _rule_or_404(rule_id)
    a, b = _int_param(request, "a"), _int_param(request, "b")
    try:
        diff = selectors.rule_revision_diff(rule=rule, a=a, b=b)
    except RuleRevision.DoesNotExist as error:
        raise Http404(str(error)) from None
    return render(request, "rules/diff.html", {"title": f"{rule.rule_id}: revision {a} → {b}", "rule": rule, "lines": _diff_lines(diff)})


@admin_required
@require_GET
def ruleset_diff_view(request: HttpRequest) -> HttpResponse:
    a, b = _int_param(request, "a"), _int_param(request, "b")
    diff = selectors.ruleset_version_diff(a=a, b=b)
    return render(request, "rules/diff.html", {"title": f"Ruleset v{a} → v{b}", "rule": None, "lines": _diff_lines(diff)})


@admin_required
@require_GET
def backtest_detail_view(request: HttpRequest, backtest_id: int) -> HttpResponse:
    backtest = get_object_or_404(Backtest, pk=backtest_id)
    samples = {}
    if backtest.result:
        for bucket, items in backtest.result.get("samples", {}).items():
            samples[bucket] = [
                {**item, "segments": highlight_segments(item["excerpt"], [(s, e, backtest.result["rule_id"]) for s, e in item["spans"]])}
                for item in items
            ]
    return render(
        request,
        "rules/backtest_detail.html",
        {"backtest": backtest, "samples": samples, "status_url": reverse("rules:backtest-status", args=[backtest.pk])},
    )


@admin_required
@require_GET
def backtest_status_view(request: HttpRequest, backtest_id: int) -> JsonResponse:
    """The small JSON the backtest page polls for its progress bar."""
    backtest = get_object_or_404(Backtest, pk=backtest_id)
    return JsonResponse(
        {
            "status": backtest.status,
            "processed": backtest.processed,
            "total": backtest.total,
            "percent": backtest.progress_percent,
            "error": backtest.error,
            "finished": backtest.status in (Backtest.Status.DONE, Backtest.Status.FAILED),
        }
    )


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, line) pairs for a unified diff."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            css = "file"
        elif line.startswith("@@"):
            css = "hunk"
        elif line.startswith("+"):
            css = "add"
        elif line.startswith("-"):
            css = "del"
        else:
            css = ""
        lines.append((css, line))
    return lines
