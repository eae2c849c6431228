"""The operation table is the one declaration: every phone operation has a controller method whose
parameters are exactly the route's path parameters and body fields, and the socket answers them."""

import errno
import inspect
import re

import pytest

from appliance.assembly import assemble
from appliance.config.load import Layer
from appliance.durable import StorageFullError
from appliance.runtime.control import Controllers
from appliance.runtime.control.api import OPERATIONS
from appliance.runtime.control_socket import ControlClient, ControlServer, ControlUnavailableError


def _parameters(op) -> tuple[set[str], set[str]]:
    """(what the route may give, what it always gives) as keyword arguments."""
    given = set(re.findall(r"{(\w+)}", op.path))
    if op.body is not None:
        given |= {op.body_as} if op.body_as else set(op.body.get("properties", {}))
    required = set(re.findall(r"{(\w+)}", op.path))
    if op.body is not None:
        required |= {op.body_as} if op.body_as else set(op.body.get("required", []))
    return given, required


@pytest.mark.parametrize("op", [op for op in OPERATIONS if not op.web], ids=lambda op: op.name)
def test_each_operation_fits_its_controller_method(op):
    controller = {f.name: f.type for f in Controllers.__dataclass_fields__.values()}
    assert op.controller in controller, op.name
    phone = assemble([Layer("defaults", {})], None)
    method = getattr(getattr(phone.control, op.controller), op.function)
    params = inspect.signature(method).parameters
    given, required = _parameters(op)
    assert given <= set(params), (op.name, given - set(params))  # nothing the method cannot take
    mandatory = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
    assert mandatory <= required, (op.name, mandatory - required)


def test_names_and_routes_are_unique():
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS)
    routed = [op for op in OPERATIONS if not op.internal]
    assert len({(op.method, op.path) for op in routed}) == len(routed)
    assert all(op.path == "" for op in OPERATIONS if op.internal)  # internal: the socket only


async def test_the_socket_answers_declared_operations_and_refuses_others(tmp_path):
    phone = assemble([Layer("defaults", {}), Layer("b", {"board": {"simulated": True}})], tmp_path)
    server = ControlServer(phone.control, tmp_path / "control.sock")
    await server.start()
    client = ControlClient(tmp_path / "control.sock")
    try:
        status = await client.call("status.status", {})
        assert status["simulated"] is True
        assert (await client.call("settings.dial_test", {"digits": "*78"}))["result"] == "complete"
        with pytest.raises(ControlUnavailableError, match=r"no operation 'web\.login'"):
            await client.call("web.login", {"password": "x"})  # the page's own, not the phone's
        with pytest.raises(ControlUnavailableError, match="unexpected keyword"):
            await client.call("settings.dial_test", {"digits": "1", "extra": 1})
    finally:
        await client.close()
        await server.stop()


async def test_a_full_data_partition_crosses_the_socket_in_plain_words(tmp_path, monkeypatch):
    """The page's own process gets the phone's StorageFullError (its 503 and words), not a lost phone."""
    phone = assemble([Layer("defaults", {}), Layer("b", {"board": {"simulated": True}})], tmp_path)

    def full(*_args, **_kwargs):
        raise StorageFullError(errno.ENOSPC, "The data partition is full: the change was not saved")

    monkeypatch.setattr("appliance.config.store.atomic_write", full)
    server = ControlServer(phone.control, tmp_path / "control.sock")
    await server.start()
    client = ControlClient(tmp_path / "control.sock")
    try:
        with pytest.raises(StorageFullError, match="the change was not saved"):
            await client.call("settings.save", {"changes": {"phone": {"country": "DE"}}})
        assert (await client.call("status.status", {}))["simulated"] is True  # the phone answers on
    finally:
        await client.close()
        await server.stop()
