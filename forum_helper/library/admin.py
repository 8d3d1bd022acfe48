from django.contrib import admin
from django.http import HttpRequest

from forum_helper.library.models import Document, Passage, Pin
from forum_helper.library.services import document_delete, passage_delete, passage_update, pin_create, pin_delete

# Writes go through the services so the SQLite FTS index and the audit log stay in step.


class PassageInline(admin.TabularInline):
    model = Passage
    fields = ("position", "heading", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # passages come from importing the article


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "publisher", "source_url", "date_added")
    search_fields = ("title", "source_url", "publisher")
    readonly_fields = ("source_url", "citations", "body", "date_added", "updated_at")
    inlines = [PassageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # import with the library page or `manage.py import_reference`

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(document=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for document in queryset:
            document_delete(document=document, actor=request.user)


@admin.register(Passage)
class PassageAdmin(admin.ModelAdmin):
    list_display = ("document", "position", "heading")
    list_filter = ("document",)
    search_fields = ("heading", "text")
    readonly_fields = ("document", "position")
    fields = ("document", "position", "heading", "text")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Passage, form, change: bool) -> None:
        original = Passage.objects.get(pk=obj.pk)
        heading, text = obj.heading, obj.text
        passage_update(passage=original, heading=heading, text=text, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Passage) -> None:
        passage_delete(passage=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for passage in queryset:
            passage_delete(passage=passage, actor=request.user)


@admin.register(Pin)
class PinAdmin(admin.ModelAdmin):
    list_display = ("category", "rule_id", "passage", "created_by", "created_at")
    list_filter = ("category",)
    search_fields = ("category", "rule_id", "note", "passage__heading")
    raw_id_fields = ("passage",)
    fields = ("passage", "category", "rule_id", "note")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # delete and re-pin instead, so every change is one audited action

    def save_model(self, request: HttpRequest, obj: Pin, form, change: bool) -> None:
        created = pin_create(passage=obj.passage, category=obj.category, rule_id=obj.rule_id, note=obj.note, actor=request.user)
        obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Pin) -> None:
        pin_delete(pin=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for pin in queryset:
            pin_delete(pin=pin, actor=request.user)
