from django.contrib import admin

from forum_helper.core.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "reason")

    def has_change_permission(self, request, obj=None) -> bool:  # audit rows are immutable
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
