from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "forum_helper.intake"
    label = "intake"
