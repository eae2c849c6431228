"""The README's example is output of the program, not prose: run it and compare."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parents[2] / "README.md"


def test_readme_starts_with_the_two_commands():
    first = README.read_text().splitlines()[:4]
    assert first[1].startswith("bash .ci/setup && .venv/bin/appliance run --board desktop")
    assert first[2].startswith("bash .ci/run")


def test_readme_sim_example_is_real_output():
    block = re.search(
        r"```sh\n\$ printf '(.*?)' \| \.venv/bin/appliance sim -\n(.*?)```", README.read_text(), re.DOTALL
    )
    assert block, "the README lost its simulator example"
    script = block.group(1).encode().decode("unicode_escape")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("appliance")), "sim", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == block.group(2)


def test_readme_provisioning_profile_is_one_a_phone_takes():
    from appliance.apps.common import board_layer
    from appliance.assembly import check
    from appliance.config import profile as profiles
    from appliance.config.load import Layer

    block = re.search(r"```toml\n(# https://prov\.example\.org/phones/.*?)```", README.read_text(), re.DOTALL)
    assert block, "the README lost its sample profile"
    profile = profiles.parse(block.group(1), "README")
    loaded = check([Layer("defaults", {}), board_layer("desktop", None), Layer("profile", profile.table)])
    assert profile.locked == ("dialplan.map", "emergency.numbers", "sip_accounts")
    assert loaded.config.sip_accounts[0].registrar == "pbx.example.org"
    assert loaded.config.web.admin_password_hash.startswith("scrypt$16384$8$1$")


def test_readme_nginx_config_is_one_nginx_takes(tmp_path):
    import shutil

    import pytest

    from tests.nginx import NGINX, Authority

    if not shutil.which(NGINX) and not Path(NGINX).exists():
        pytest.skip("nginx (nginx-light) is not installed")
    block = re.search(r"```nginx\n(.*?)```", README.read_text(), re.DOTALL)
    assert block, "the README lost its sample nginx configuration"
    ca = Authority(tmp_path, "fleet-ca")
    server = ca.issue("prov", server=True)
    site = (block.group(1).replace("/etc/nginx/prov.pem", str(server.cert))
            .replace("/etc/nginx/prov.key", str(server.key)).replace("/etc/nginx/fleet-ca.pem", str(ca.pem.cert))
            .replace("/srv/provisioning", str(tmp_path)))  # fmt: skip
    temp = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                         "uwsgi", "scgi"))  # fmt: skip
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\naccess_log off;\n{temp}\n{site}}}\n")  # fmt: skip
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True,
                            timeout=30, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
