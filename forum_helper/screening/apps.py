from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "forum_helper.screening"
    label = "screening"
