from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "forum_helper.core"
    label = "core"
