"""API fuzzing from the OpenAPI document (schemathesis) against ``appliance run`` on the desktop board.

Three properties, over every operation: no 5xx; nothing but the public endpoints answers without
credentials; a request the API rejects changes nothing on disk.
"""

import base64
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.net import free_port, wait_listening

BIN = Path(sys.executable).with_name("appliance")
PASSWORD = "fuzzing is fun"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()}
PUBLIC = {"/api/v1/openapi.json", "/api/v1/setup", "/api/v1/login", "/api/v1/logout", "/api/v1/system/ca.crt"}
# Logins and password changes are left to test_api: random passwords would (rightly) lock the
# fuzzing client out for everything, Basic included.
# Restart and reboot succeed on any input by design (they take none): the phone would go away
# under the fuzzer. They are tested in test_api and, on real processes, in test_system.
NOT_FUZZED_WITH_AUTH = {
    "/api/v1/login", "/api/v1/setup", "/api/v1/password", "/api/v1/logout",
    "/api/v1/system/restart", "/api/v1/system/reboot",
    "/api/v1/events",  # a stream that does not end: test_push.py reads it
}  # fmt: skip


@pytest.fixture
def server(tmp_path):
    """A fresh phone per property: the login brake one property trips must not bother the other."""
    root = tmp_path
    password = root / "admin-password"
    password.write_text(PASSWORD)
    port = free_port()
    log = (root / "appliance.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN), "run", "--board", "desktop", "--data", str(root / "data"), "--listen", f"127.0.0.1:{port}",
         "--admin-password-file", str(password)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_listening(port, proc)
        yield url, root / "data"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        text = (root / "appliance.log").read_text()
        assert "Traceback" not in text, text


@pytest.fixture
def api(server):
    url, _ = server
    return schemathesis.openapi.from_url(f"{url}/api/v1/openapi.json")


FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def snapshot(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data.glob("*.toml"))}


def operations(api):
    """Every operation of the document (schemathesis's pytest plugin does not load on pytest 9)."""
    for result in api.get_all_operations():
        yield result.ok()


def fuzz(api, check) -> dict[str, int]:
    """Run ``check(case)`` on generated cases of every operation; how many cases each got."""
    counts: dict[str, int] = {}
    for operation in operations(api):
        label = f"{operation.method.upper()} {operation.path}"
        counts[label] = 0
        one(operation, label, counts, check)
    return counts


def one(operation, label, counts, check) -> None:
    @given(case=operation.as_strategy())
    @FUZZ
    def run(case):
        counts[label] += 1
        check(case)

    run()


def test_no_server_errors_and_rejected_input_changes_nothing(api, server):
    _, data = server

    def check(case):
        if case.path in NOT_FUZZED_WITH_AUTH:
            return
        before = snapshot(data)
        response = case.call(headers=AUTH, timeout=10)
        assert response.status_code < 500, (case.method, case.path, response.text)
        if response.status_code >= 400:
            assert snapshot(data) == before, (
                f"{case.method} {case.path} answered {response.status_code} but saved"
            )
        case.validate_response(
            response,
            checks=[
                schemathesis.checks.not_a_server_error,
                schemathesis.checks.response_schema_conformance,
                schemathesis.checks.content_type_conformance,
            ],
        )

    counts = fuzz(api, check)
    print(f"{sum(counts.values())} authenticated cases over {len(counts)} operations")
    assert len(counts) >= 20


def test_nothing_but_public_endpoints_answers_without_credentials(api, server):
    _, data = server

    def check(case):
        before = snapshot(data)
        response = case.call(timeout=10)
        assert response.status_code < 500, response.text
        if case.path not in PUBLIC:
            # 429: the generated Basic credentials were wrong often enough to trip the login brake.
            assert response.status_code in (401, 403, 429), (
                f"{case.method} {case.path}: {response.status_code}"
            )
            assert snapshot(data) == before

    counts = fuzz(api, check)
    print(f"{sum(counts.values())} unauthenticated cases over {len(counts)} operations")
