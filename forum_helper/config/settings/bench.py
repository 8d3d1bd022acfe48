"""Benchmark settings: the normal app plus the bare baseline endpoints (bench/ only).

Never used in production; selected by the bench harness with DJANGO_SETTINGS_MODULE.
"""
from forum_helper.config.settings.base import *  # noqa: F401,F403

ROOT_URLCONF = "forum_helper.config.bench_urls"
DEBUG = False
