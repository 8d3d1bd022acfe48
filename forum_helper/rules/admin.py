from django.contrib import admin

from forum_helper.rules.models import Backtest, Rule, RuleRevision, RulesetVersion


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    """Read-only here: changes go through the rules pages so they compile, get a revision and an audit row."""

    list_display = ("rule_id", "kind", "category", "mode", "current_revision", "updated_at")
    list_filter = ("mode", "kind", "category")
    search_fields = ("rule_id", "description")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # history is immutable
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RuleRevision)
class RuleRevisionAdmin(ReadOnlyAdmin):
    list_display = ("rule", "number", "ruleset_version", "actor", "created_at", "reason")
    list_filter = ("rule__kind",)
    search_fields = ("rule__rule_id", "reason")


@admin.register(RulesetVersion)
class RulesetVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "actor", "created_at", "summary")


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "status", "processed", "total", "created_by", "created_at")
    list_filter = ("status",)
