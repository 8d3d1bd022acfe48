from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "forum_helper.rules"
    label = "rules"
