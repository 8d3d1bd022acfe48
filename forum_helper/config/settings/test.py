"""Test settings: the environment's database, fast hashing, tasks in-process.

Tests that need a real broker and worker start their own processes (tests/integration).
"""
from forum_helper.config.settings.base import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
DEBUG = False
