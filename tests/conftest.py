import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, available: bool, how_to_fix: str) -> None:
    """In CI a missing service fails the test; elsewhere it skips with the reason."""
    if available:
        return
    message = f"{name} is not available: {how_to_fix}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
