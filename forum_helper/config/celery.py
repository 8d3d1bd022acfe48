import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "forum_helper.config.settings.base")

app = Celery("forum_helper")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
