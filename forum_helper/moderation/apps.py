from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "forum_helper.moderation"
    label = "moderation"
