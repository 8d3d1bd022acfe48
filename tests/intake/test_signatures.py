import pytest

from forum_helper.intake.signatures import (
    discourse_signature,
    discourse_signature_valid,
    standard_secret_key,
    standard_signature,
    standard_verify,
)

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = "1614265330"
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_" + "c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="


def test_discourse_signature_matches_discourses_own_test_vector() -> None:
    assert discourse_signature(secret="my_lovely_secret_for_web_hook", body=b'{"ping":"OK"}') == (
        "sha256=162f107f6b5022353274eb1a7197885cfd35744d8d08e5bcea025d309386b7d6"
    )


def test_discourse_signature_is_accepted_under_any_rotated_secret() -> None:
    header = discourse_signature(secret="the-new-secret-123", body=b"{}")
    assert discourse_signature_valid(secrets=["the-old-secret-123", "the-new-secret-123"], body=b"{}", header=header)
    assert not discourse_signature_valid(secrets=["the-old-secret-123"], body=b"{}", header=header)
    assert not discourse_signature_valid(secrets=["the-new-secret-123"], body=b"{} ", header=header)


def test_discourse_signature_rejects_non_ascii_headers_without_raising() -> None:
    assert not discourse_signature_valid(secrets=["the-old-secret-123"], body=b"{}", header="sha256=\udcff\u00e9")


def test_standard_signature_matches_the_spec_test_vector() -> None:
    assert standard_signature(secret=SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY) == SPEC_SIGNATURE


def test_standard_verify_accepts_the_spec_vector_at_its_own_time() -> None:
    check = standard_verify(
        secrets=[SPEC_SECRET], msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY,
        header=SPEC_SIGNATURE, now=1614265330, tolerance_seconds=300,
    )
    assert check.valid


@pytest.mark.parametrize(
    ("secrets", "header"),
    [
        ([OTHER_SECRET, SPEC_SECRET], SPEC_SIGNATURE),  # the receiver rotates: two secrets
        ([SPEC_SECRET], f"v1,bm90LXRoaXMtb25l {SPEC_SIGNATURE}"),  # the sender rotates: two signatures
        ([SPEC_SECRET], f"v2,whatever {SPEC_SIGNATURE}"),  # unknown versions are skipped
    ],
    ids=["two-secrets", "two-signatures", "unknown-version-skipped"],
)
def test_standard_verify_accepts_any_matching_secret_and_signature_during_rotation(secrets: list[str], header: str) -> None:
    check = standard_verify(
        secrets=secrets, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY, header=header,
        now=1614265330 + 10, tolerance_seconds=300,
    )
    assert check.valid


@pytest.mark.parametrize(
    ("now", "fragment"),
    [(1614265330 + 301, "old"), (1614265330 - 301, "future")],
    ids=["stale", "future"],
)
def test_standard_verify_rejects_timestamps_outside_the_tolerance_with_400(now: int, fragment: str) -> None:
    check = standard_verify(
        secrets=[SPEC_SECRET], msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY,
        header=SPEC_SIGNATURE, now=now, tolerance_seconds=300,
    )
    assert (check.valid, check.status) == (False, 400)
    assert fragment in check.problem


@pytest.mark.parametrize("timestamp", ["", "abc", "1614265330.5", "١٦١٤٢٦٥٣٣٠", "9" * 40])
def test_standard_verify_rejects_timestamps_that_are_not_integers(timestamp: str) -> None:
    check = standard_verify(
        secrets=[SPEC_SECRET], msg_id=SPEC_ID, timestamp=timestamp, body=SPEC_BODY,
        header=SPEC_SIGNATURE, now=1614265330, tolerance_seconds=300,
    )
    assert (check.valid, check.status) == (False, 400)


def test_standard_verify_rejects_a_tampered_body_with_401() -> None:
    check = standard_verify(
        secrets=[SPEC_SECRET], msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=b'{"test": 2432232315}',
        header=SPEC_SIGNATURE, now=1614265330, tolerance_seconds=300,
    )
    assert (check.valid, check.status) == (False, 401)


@pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_"])
def test_standard_secret_key_refuses_secrets_that_are_not_whsec_base64(secret: str) -> None:
    with pytest.raises(ValueError):
        standard_secret_key(secret)
