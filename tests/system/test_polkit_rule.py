"""The image's polkit rule for the network (image/rootfs/etc/polkit-1/rules.d), run as polkitd runs
it: the file evaluated in a JavaScript engine (node here; polkitd's is duktape, ES5: the rule uses
nothing newer) against polkit's ``addRule`` and asked for each user and action."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

RULE = Path(__file__).parents[2] / "image/rootfs/etc/polkit-1/rules.d/50-appliance-network.rules"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node to run the rule")

NM = "org.freedesktop.NetworkManager."
ALLOWED = [
    "network-control",
    "settings.modify.system",
    "wifi.scan",
    "enable-disable-wifi",
    "wifi.share.protected",
]
REFUSED = ["settings.modify.hostname", "settings.modify.global-dns", "enable-disable-network", "sleep-wake",
           "reload", "checkpoint-rollback", "wifi.share.open", "network-control.x"]  # fmt: skip


def decide(asks):
    script = (
        "var rules = []; var polkit = {Result: {YES: 'yes', NO: 'no', NOT_HANDLED: null},"
        " addRule: function (f) { rules.push(f); }};\n"
        + RULE.read_text()
        + "\nvar asks = "
        + json.dumps(asks)
        + ";\n"
        "console.log(JSON.stringify(asks.map(function (a) {"
        " return rules[0]({id: a[1]}, {user: a[0]}); })));"
    )
    result = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_supervisor_may_manage_the_network_and_nothing_else():
    asks = [["appliance", NM + a] for a in ALLOWED + REFUSED]
    asks += [
        ["appliance", "org.freedesktop.login1.reboot"],
        ["appliance", "org.freedesktop.systemd1.manage-units"],
    ]
    assert decide(asks) == ["yes"] * len(ALLOWED) + [None] * (len(REFUSED) + 2)


@pytest.mark.parametrize("user", ["appliance-web", "admin", "nobody", "appliance2"])
def test_no_other_user_gets_anything(user):
    assert decide([[user, NM + a] for a in ALLOWED]) == [None] * len(ALLOWED)
