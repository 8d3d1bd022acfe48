"""Every operation of the OpenAPI schema, called by schemathesis as an admin: never a server error.

The schema and the calls go through the project's WSGI application in-process, so they share the test
database connection: pytest-django's transaction around each operation's test rolls back whatever the
mutating operations wrote. Exceptions in views become 500 responses there (the real handler), which the
`not_a_server_error` check reports.
"""
import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from forum_helper.moderation.services import queue_item_sync_for_finding
from tests.moderation.factories import finding_create, user_create
from tests.reliability.conftest import case_record

EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "60"))


pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_token(db: None) -> str:
    queue_item_sync_for_finding(finding=finding_create())  # item 1 exists, so some generated ids hit a real row
    return Token.objects.create(user=user_create("schema-admin", "admins")).key


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> None:
    """As Django's test client does: the WSGI handler must not close the connection holding the test transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(admin_token: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", get_wsgi_application(), headers={"Authorization": f"Token {admin_token}"}
    )


FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_every_api_operation_answers_an_admin_without_a_server_error(
    api_schema: schemathesis.BaseSchema, admin_token: str
) -> None:
    """One hypothesis run per operation (schemathesis' pytest plugin does not load under pytest 9)."""
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Token {admin_token}"})
            case_record("schemathesis", response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            call()
        except Exception as error:  # noqa: BLE001 - collected so every operation runs, reported together below
            failures[operation.label] = f"{type(error).__name__}: {str(error)[:1500]}"
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
