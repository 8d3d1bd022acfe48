from django.contrib import admin
from django.db import models

from forum_helper.core.models import AuditLog

# A URL typed without a scheme means https (Django 6's default; 5.2 warns on every form without it).
HTTPS_URL_FORMFIELDS = {models.URLField: {"assume_scheme": "https"}}


def https_url_formfield(db_field: models.Field, **kwargs):
    """`Meta.formfield_callback` for a custom ModelForm: the admin subclasses it without its overrides."""
    return db_field.formfield(**{**HTTPS_URL_FORMFIELDS.get(type(db_field), {}), **kwargs})


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "reason")

    def has_change_permission(self, request, obj=None) -> bool:  # audit rows are immutable
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
