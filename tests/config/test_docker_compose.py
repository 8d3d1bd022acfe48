import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_environment_names() -> set[str]:
    """Every variable name the settings modules ask forum_helper.config.env for."""
    names: set[str] = set()
    for path in (ROOT / "forum_helper" / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', path.read_text()))
    return names


def test_compose_has_the_five_services_with_healthchecks() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"web", "worker", "beat", "redis", "postgres"}
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_app_services_run_the_project_entry_points() -> None:
    services = COMPOSE["services"]
    assert "gunicorn forum_helper.config.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"].startswith("celery -A forum_helper.config worker")
    assert services["beat"]["command"].startswith("celery -A forum_helper.config beat")
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "forum_helper.config.settings.production"
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}


def test_compose_points_database_and_broker_at_its_own_services() -> None:
    environment = COMPOSE["services"]["web"]["environment"]
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"


def test_every_variable_compose_and_env_example_set_is_read_by_the_settings() -> None:
    read = settings_environment_names()
    compose_names = set(COMPOSE["services"]["web"]["environment"]) - {"DJANGO_SETTINGS_MODULE"}
    example_names = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert compose_names <= read
    assert (example_names - {"POSTGRES_PASSWORD"}) <= read
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"} <= example_names


def test_the_image_copies_what_the_app_needs_at_run_time() -> None:
    dockerfile = COMPOSE["x-app"]["build"]["dockerfile_inline"]
    for needed in ("forum_helper", "templates", "fixtures", "manage.py", "pyproject.toml"):
        assert f"COPY {needed}" in dockerfile
