"""Moderator pages: thin views translating requests to selectors and services."""
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View

from forum_helper.core.exceptions import ApplicationError
from forum_helper.core.roles import is_moderator
from forum_helper.intake.models import ForumSource
from forum_helper.moderation import charts, selectors, services
from forum_helper.moderation.forms import BulkDecisionForm, ClaimForm, DecisionForm, NoteForm, VersionForm
from forum_helper.moderation.models import Decision
from forum_helper.moderation.queue_rows import queue_rows_html


class ModeratorRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Anonymous: redirect to login. Signed in without the moderator or admin role: 403."""

    def test_func(self) -> bool:
        return is_moderator(self.request.user)


def _error_response(request: HttpRequest, error: ApplicationError, *, item_id: int | None) -> HttpResponse:
    if error.status == 404:
        raise Http404(error.message)
    if error.status in (403, 409):
        return render(request, "moderation/conflict.html",
                      {"message": error.message, "extra": error.extra, "item_id": item_id}, status=error.status)
    messages.error(request, error.message)
    return redirect("moderation:item", item_id=item_id) if item_id else redirect("moderation:queue")


def _form_errors(form: Any) -> str:
    return " ".join(f"{'' if field == '__all__' else field + ': '}{' '.join(errors)}" for field, errors in form.errors.items())


class RootView(ModeratorRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return redirect("moderation:queue")


class QueueView(ModeratorRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        filters = selectors.QueueFilters.from_params(request.GET)
        try:
            page_number = int(request.GET.get("page", "1"))
        except ValueError:
            page_number = 1
        page = selectors.queue_page(user=request.user, filters=filters, page=page_number,
                                    after=request.GET.get("after", ""), before=request.GET.get("before", ""))
        counts = selectors.queue_tab_counts_capped(user=request.user)
        base = filters.query_params()
        query = urlencode(base)
        return render(request, "moderation/queue.html", {
            "filters": filters,
            "page": page,
            "rows": queue_rows_html(page.items, query=query),
            "tabs": [(tab, selectors.TAB_LABELS[tab], counts[tab],
                      urlencode({**{k: v for k, v in base.items() if k != "tab"}, "tab": tab})) for tab in selectors.TABS],
            "severities": selectors.SEVERITIES,
            "categories": [(c, selectors.CATEGORY_LABELS[c]) for c in selectors.CATEGORIES],
            "sources": ForumSource.objects.order_by("slug").values_list("slug", flat=True),
            "sorts": list(selectors.SORTS),
            "query": query,
            # Keyset links (cheap at any depth); page 1 needs no cursor.
            "next_query": urlencode({**base, "page": page.number + 1, "after": page.next_cursor}),
            "previous_query": urlencode({**base, "page": page.number - 1} if page.number <= 2 else
                                        {**base, "page": page.number - 1, "before": page.previous_cursor}),
            "decision_kinds": Decision.Kind.choices,
            "actions_taken": [c for c in Decision.ActionTaken.choices if c[0]],
        })

    def post(self, request: HttpRequest) -> HttpResponse:
        """Bulk decision on the checked items."""
        form = BulkDecisionForm(request.POST)
        back = reverse("moderation:queue") + ("?" + request.POST["query"] if request.POST.get("query") else "")
        if not form.is_valid():
            messages.error(request, f"Bulk decision not made: {_form_errors(form)}")
            return redirect(back)
        data = form.cleaned_data
        result = services.decisions_bulk_create(actor=request.user, items=data["items"], kind=data["kind"],
                                                reason=data["reason"], action_taken=data.get("action_taken") or "")
        if result.decided:
            messages.success(request, f"{data['kind'].capitalize()}: {len(result.decided)} item(s) decided.")
        for item_id, message in result.failed.items():
            messages.error(request, f"Item #{item_id}: {message}")
        return redirect(back)


class ItemView(ModeratorRequiredMixin, View):
    def get(self, request: HttpRequest, item_id: int) -> HttpResponse:
        item = selectors.queue_item_get(item_id=item_id)
        if item is None:
            raise Http404("No such queue item.")
        filters = selectors.QueueFilters.from_params(request.GET)
        previous_id, next_id = selectors.queue_neighbours(item=item, user=request.user, filters=filters)
        detail = selectors.queue_item_detail(item=item, user=request.user)
        return render(request, "moderation/item.html", {
            "d": detail,
            "item": item,
            "query": urlencode(filters.query_params()),
            "previous_id": previous_id,
            "next_id": next_id,
            "decision_kinds": Decision.Kind.choices,
            "actions_taken": [c for c in Decision.ActionTaken.choices if c[0]],
            "claimed_by_me": item.claimed_by_id == request.user.pk,
        })


class ItemClaimView(ModeratorRequiredMixin, View):
    def post(self, request: HttpRequest, item_id: int) -> HttpResponse:
        form = ClaimForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return redirect("moderation:item", item_id=item_id)
        service = services.queue_item_claim if form.cleaned_data["action"] == "claim" else services.queue_item_unclaim
        try:
            service(item_id=item_id, actor=request.user, expected_version=form.cleaned_data["version"])
        except ApplicationError as error:
            return _error_response(request, error, item_id=item_id)
        messages.success(request, "Claimed." if form.cleaned_data["action"] == "claim" else "Unclaimed.")
        return redirect(reverse("moderation:item", args=[item_id]) + _query_suffix(request))


class ItemDecideView(ModeratorRequiredMixin, View):
    def post(self, request: HttpRequest, item_id: int) -> HttpResponse:
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Decision not saved: {_form_errors(form)}")
            return redirect("moderation:item", item_id=item_id)
        data = form.cleaned_data
        try:
            decision = services.decision_create(item_id=item_id, actor=request.user, kind=data["kind"],
                                                reason=data["reason"], action_taken=data.get("action_taken") or "",
                                                expected_version=data["version"])
        except ApplicationError as error:
            return _error_response(request, error, item_id=item_id)
        messages.success(request, f"Decision saved: {decision.get_kind_display()}.")
        return redirect(reverse("moderation:item", args=[item_id]) + _query_suffix(request))


class ItemUndoView(ModeratorRequiredMixin, View):
    def post(self, request: HttpRequest, item_id: int) -> HttpResponse:
        form = VersionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _form_errors(form))
            return redirect("moderation:item", item_id=item_id)
        try:
            decision = services.decision_undo(item_id=item_id, actor=request.user,
                                              expected_version=form.cleaned_data["version"])
        except ApplicationError as error:
            return _error_response(request, error, item_id=item_id)
        messages.success(request, f"Undone: {decision.get_kind_display()}.")
        return redirect(reverse("moderation:item", args=[item_id]) + _query_suffix(request))


class ItemNoteView(ModeratorRequiredMixin, View):
    def post(self, request: HttpRequest, item_id: int) -> HttpResponse:
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Note not saved: {_form_errors(form)}")
            return redirect("moderation:item", item_id=item_id)
        try:
            services.note_create(item_id=item_id, actor=request.user, text=form.cleaned_data["text"],
                                 expected_version=form.cleaned_data["version"])
        except ApplicationError as error:
            return _error_response(request, error, item_id=item_id)
        messages.success(request, "Note added.")
        return redirect(reverse("moderation:item", args=[item_id]) + _query_suffix(request))


def _query_suffix(request: HttpRequest) -> str:
    query = request.POST.get("query", "")
    return f"?{query}" if query else ""


class DashboardView(ModeratorRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        stats = selectors.dashboard_stats()
        return render(request, "moderation/dashboard.html", {
            "stats": stats,
            "per_day_chart": charts.stacked_days_chart(stats["per_day"]),
            "age_chart": charts.simple_bar_chart(stats["age_buckets"]),
            "severity_colours": charts.SEVERITY_COLOURS,
        })
