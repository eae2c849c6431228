"""Every program a test looks up is there after ``bash .ci/setup --dev``.

A test that finds no tool skips, so a tool .ci/setup forgot to install hides as a skip on a fresh
machine (sfdisk once did). This reads the programs the tests ask ``shutil.which`` for and fails,
naming them, if one is missing; only the image's emulator is installed with IMAGE_BUILD alone.
"""

import os
import re
import shutil
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# Unpacked into the venv by .ci/setup (installed, they would take over the network or listen).
UNPACKED = {name: Path(sys.prefix) / "libexec" / name for name in ("nmcli", "sshd")}
ONLY_WITH_IMAGE_BUILD = {"qemu-system-aarch64"}


def programs_the_tests_look_up() -> set[str]:
    found = set()
    for source in TESTS.rglob("*.py"):
        found |= set(re.findall(r'shutil\.which\(\s*"([^"]+)"', source.read_text()))
    return found


def test_the_tests_look_programs_up_and_this_test_sees_them():
    assert {"sipp", "espeak-ng", "nginx", "dnsmasq", "nmcli"} <= programs_the_tests_look_up()


def test_setup_installed_every_program_a_test_looks_up():
    wanted = programs_the_tests_look_up()
    if not os.environ.get("IMAGE_BUILD"):
        wanted -= ONLY_WITH_IMAGE_BUILD
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"  # a user's PATH on Debian lacks sbin
    missing = sorted(
        p for p in wanted if not shutil.which(p, path=path) and not UNPACKED.get(p, Path("/-")).exists()
    )
    assert not missing, f"not on this machine: {', '.join(missing)} (bash .ci/setup --dev installs them)"
