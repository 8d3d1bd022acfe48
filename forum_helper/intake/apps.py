from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IntakeConfig(AppConfig):
    name = "forum_helper.intake"
    label = "intake"

    def ready(self) -> None:
        from forum_helper.intake.models import ForumSource
        from forum_helper.intake.selectors import forum_source_cache_clear

        # A source saved or deleted in this process takes effect for its next delivery.
        post_save.connect(forum_source_cache_clear, sender=ForumSource, dispatch_uid="forum_source_cache_save")
        post_delete.connect(forum_source_cache_clear, sender=ForumSource, dispatch_uid="forum_source_cache_delete")
