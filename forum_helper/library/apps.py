from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "forum_helper.library"
    label = "library"
