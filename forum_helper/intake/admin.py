from django import forms
from django.contrib import admin

from forum_helper.core.admin import HTTPS_URL_FORMFIELDS, https_url_formfield
from forum_helper.intake.models import Delivery, ForumSource, Post, PostVersion, Thread


class ForumSourceForm(forms.ModelForm):
    # Secrets are write-only: the form never renders the stored values back.
    new_secret = forms.CharField(required=False, widget=forms.PasswordInput, help_text="Adds a secret (rotation keeps the old ones until removed).")
    clear_secrets = forms.BooleanField(required=False)

    class Meta:
        model = ForumSource
        exclude = ["secrets"]
        formfield_callback = https_url_formfield


@admin.register(ForumSource)
class ForumSourceAdmin(admin.ModelAdmin):
    form = ForumSourceForm
    formfield_overrides = HTTPS_URL_FORMFIELDS
    list_display = ("slug", "kind", "instance_url", "secret_summary", "created_at")
    readonly_fields = ("secret_summary",)

    @admin.display(description="secrets")
    def secret_summary(self, obj: ForumSource) -> str:
        return ", ".join(obj.masked_secrets()) or "none"

    def save_model(self, request, obj: ForumSource, form, change: bool) -> None:
        if form.cleaned_data.get("clear_secrets"):
            obj.secrets = []
        if form.cleaned_data.get("new_secret"):
            obj.secrets = [*obj.secrets, form.cleaned_data["new_secret"]]
        super().save_model(request, obj, form, change)


class PostVersionInline(admin.TabularInline):
    model = PostVersion
    extra = 0
    fields = ("version", "edited_at", "edit_reason", "text_sha256")
    readonly_fields = fields
    can_delete = False


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_URL_FORMFIELDS
    list_display = ("title", "source", "external_id", "created_at")
    list_filter = ("source",)
    search_fields = ("title", "external_id")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("external_id", "thread", "author_name", "author_role", "position", "current_version", "created_at")
    list_filter = ("source", "author_role")
    search_fields = ("external_id", "author_name")
    inlines = [PostVersionInline]
    raw_id_fields = ("thread", "parent")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, newest first; headers are stored with secrets redacted."""

    list_display = ("received_at", "source_slug", "endpoint", "event", "outcome", "status_code", "body_size", "error")
    list_filter = ("outcome", "endpoint", "status_code", "source")
    search_fields = ("event_id", "message_id", "body_sha256", "error", "source_slug")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    list_select_related = ("source",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # a log is not edited
        return False
