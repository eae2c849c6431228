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
