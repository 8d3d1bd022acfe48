from django.contrib import admin

from forum_helper.screening.models import Finding


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("post_version", "ruleset_version", "risky", "severity", "stance", "created_at")
    list_filter = ("risky", "severity", "stance")
    raw_id_fields = ("post_version",)
