"""defs.py pins what the adapter uses of jamid's D-Bus API; check it against the installed XML."""

import xml.etree.ElementTree as ET

import pytest

from appliance.drivers.jami import defs


def signatures(interface: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    path = defs.INTERFACE_DIR / f"{interface}.xml"
    if not path.exists():
        pytest.skip("jami-daemon is not installed")
    root = ET.parse(path).getroot()
    methods, signals = {}, {}
    for node in root.iter("interface"):
        if node.get("name") != interface:
            continue
        for method in node.iter("method"):
            args = list(method.iter("arg"))
            ins = "".join(a.get("type") for a in args if a.get("direction", "in") == "in")
            outs = "".join(a.get("type") for a in args if a.get("direction") == "out")
            methods[method.get("name")] = (ins, outs)
        for signal in node.iter("signal"):
            signals[signal.get("name")] = "".join(a.get("type") for a in signal.iter("arg"))
    return methods, signals


@pytest.mark.parametrize("interface", list(defs.METHODS))
def test_pinned_methods_and_signals_match_the_daemon(interface):
    methods, signals = signatures(interface)
    for name, signature in defs.METHODS[interface].items():
        assert methods.get(name) == signature, f"{interface}.{name}"
    for name, signature in defs.SIGNALS[interface].items():
        assert signals.get(name) == signature, f"{interface}.{name}"


def test_peer_uris():
    from appliance.drivers.jami.client import peer_uri

    jami_id = "a" * 40
    assert peer_uri(f"ring:{jami_id}@ring.dht") == jami_id
    assert peer_uri(f"{jami_id}@ring.dht") == jami_id
    assert peer_uri("sip:bob@pbx.lan") == "sip:bob@pbx.lan"


def test_the_adapter_reaches_every_pinned_method_by_its_dbus_name():
    """The adapter calls methods by their D-Bus names (``_call("hangUp", ...)``) and finds
    dbus-fast's proxy method ``call_<snake case>``: spelled as dbus-fast spells it for every one."""
    from dbus_fast.proxy_object import BaseProxyInterface

    from appliance.drivers.jami.link import _snake

    for name, members in defs.METHODS.items():
        for member in members:
            assert _snake(member) == BaseProxyInterface._to_snake_case(member), f"{name}.{member}"
