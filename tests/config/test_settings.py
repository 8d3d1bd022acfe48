import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# Variables a test run may set that must not reach a "production" subprocess.
TEST_ONLY_VARIABLES = {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def clean_environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    env.update(overrides)
    return env


def run_django(code: str, env: dict[str, str], settings: str = "forum_helper.config.settings.base") -> subprocess.CompletedProcess:
    clean_env = clean_environment(**env, DJANGO_SETTINGS_MODULE=settings)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=60)


SHOW_SETTINGS = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps({"engine": settings.DATABASES["default"]["ENGINE"], "name": str(settings.DATABASES["default"]["NAME"]),
                  "eager": settings.CELERY_TASK_ALWAYS_EAGER, "broker": settings.CELERY_BROKER_URL, "debug": settings.DEBUG}))
"""


def test_with_no_environment_the_embedded_default_is_sqlite_and_in_process_tasks() -> None:
    result = run_django(SHOW_SETTINGS, env={})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["name"] == str(ROOT / "db.sqlite3")
    assert shown["eager"] is True


def test_database_url_and_broker_url_select_postgres_and_a_real_broker() -> None:
    result = run_django(SHOW_SETTINGS, env={"DATABASE_URL": "postgres://u:p@db.example:5432/fh", "CELERY_BROKER_URL": "redis://cache:6379/1"})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["name"] == "fh"
    assert shown["eager"] is False
    assert shown["broker"] == "redis://cache:6379/1"


def test_production_settings_pass_check_deploy_with_no_warnings_given_real_values() -> None:
    env = {
        "SECRET_KEY": "k3y-" + "x9Q#" * 16,
        "ALLOWED_HOSTS": "moderation.example.org",
        "DEBUG": "false",
    }
    clean_env = clean_environment(**env, DJANGO_SETTINGS_MODULE="forum_helper.config.settings.production")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_without_a_secret_key_fail_check_deploy() -> None:
    clean_env = clean_environment(ALLOWED_HOSTS="moderation.example.org", DJANGO_SETTINGS_MODULE="forum_helper.config.settings.production")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean_env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0


def test_only_the_env_module_reads_the_process_environment() -> None:
    readers = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "forum_helper").rglob("*.py")
        if "os.environ.get" in path.read_text() or "os.getenv" in path.read_text() or "os.environ[" in path.read_text()
    ]
    assert readers == ["forum_helper/config/env.py"]
