"""Settings for every environment; values come from forum_helper.config.env only.

Embedded default (no environment at all): SQLite file in the project, tasks run in-process.
"""
from datetime import timedelta

import dj_database_url

from forum_helper.config.env import BASE_DIR, env_bool, env_int, env_list, env_str

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", default=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "forum_helper.core",
    "forum_helper.intake",
    "forum_helper.rules",
    "forum_helper.library",
    "forum_helper.screening",
    "forum_helper.moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "forum_helper.config.urls"
WSGI_APPLICATION = "forum_helper.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forum_helper.core.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Persistent connections (reused by a worker for up to a minute) are the production norm:
        # a new PostgreSQL connection per request costs more than the request's own queries.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a moderator and a worker thread at once: wait for locks.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "forum_helper" / "static"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Webhook bodies are capped by the intake views (413 with a message); Django's own cap must
# sit above it so the view, not the framework, answers.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
STANDARD_WEBHOOK_TOLERANCE_SECONDS = 300
# How long a web process may answer from its copy of a forum source (secrets, instance URL):
# a change made in another process (admin, command) reaches every delivery within this time.
FORUM_SOURCE_CACHE_SECONDS = env_int("FORUM_SOURCE_CACHE_SECONDS", 5)

# The detector's learned second reading (forum_helper/analysis/learned.py) on top of the rules.
DETECTOR_LEARNED_READING = env_bool("DETECTOR_LEARNED_READING", True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "forum_helper.core.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "forum_helper API",
    "DESCRIPTION": "Webhook intake, moderation queue, rules and reference library.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema lists every moderator and admin operation: staff only.
    "SERVE_PERMISSIONS": ["forum_helper.core.roles.IsModerator"],
}

# Celery: with no broker configured, tasks run in-process (eagerly) so the embedded default
# needs neither Redis nor a worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    # A task not acknowledged (worker killed mid-task) is redelivered after this many seconds.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 300),
    # Look for such abandoned tasks every 10 s (kombu's default scans only every ~100 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
# A request must not hang on a dead broker: fail fast, the sweep re-enqueues later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BEAT_SCHEDULE = {
    # Requests schedule the drain themselves; this catches deliveries stored while the broker was down.
    "drain-queued-deliveries": {
        "task": "forum_helper.intake.tasks.intake_drain_task",
        "schedule": timedelta(seconds=env_int("INTAKE_DRAIN_INTERVAL_SECONDS", 10)),
    },
    "screen-pending-posts": {
        "task": "forum_helper.screening.tasks.screen_pending_task",
        "schedule": timedelta(seconds=env_int("SCREEN_PENDING_INTERVAL_SECONDS", 60)),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
