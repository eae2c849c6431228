"""The image's first-boot growth of the data partition (image/rootfs/usr/local/sbin/appliance-grow-data)
on a real block device: a loop device holding the image's layout (four MBR partitions, data last)
with data mounted, as it is when the script runs at boot."""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "image" / "rootfs" / "usr" / "local" / "sbin" / "appliance-grow-data"
MiB = 1024 * 1024
SECTOR = 512

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="loop devices need root"),
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("partx", "sfdisk", "mkfs.ext4")),
        reason="needs util-linux and fdisk (bash .ci/setup --dev)",
    ),
]


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def on_card(image: Path) -> list[dict[str, int]]:
    table = json.loads(run("sfdisk", "--json", str(image)))["partitiontable"]["partitions"]
    return [{"start": p["start"], "size": p["size"]} for p in table]


def sectors(disk: str, number: int) -> int:
    return int(Path(f"/sys/class/block/{Path(disk).name}p{number}/size").read_text())


@pytest.fixture
def card(tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    """A 128 MiB 'card' whose data partition (16 MiB) ends at 40 MiB, data mounted: (file, disk, mount)."""
    image = tmp_path / "card.img"
    with image.open("wb") as f:
        f.truncate(128 * MiB)
    subprocess.run(
        ["sfdisk", "--quiet", str(image)], input="label: dos\n,8M,c\n,8M,83\n,8M,83\n,16M,83\n",
        text=True, check=True,
    )  # fmt: skip
    disk = run("losetup", "--show", "--find", str(image)).strip()
    mount = tmp_path / "var-lib"
    mount.mkdir()
    mounted = False
    try:
        run("partx", "--add", disk)  # this kernel's loop driver makes no partitions by itself
        run("mkfs.ext4", "-q", f"{disk}p4")
        run("mount", f"{disk}p4", str(mount))
        mounted = True
        (mount / "config.toml").write_text("kept\n")
        yield image, disk, mount
    finally:
        if mounted:
            subprocess.run(["umount", str(mount)], check=False)
        subprocess.run(["partx", "--delete", disk], check=False, capture_output=True)
        subprocess.run(["losetup", "--detach", disk], check=False)


def test_the_first_boot_grows_the_mounted_data_partition_to_the_end_of_the_card(card):
    image, disk, mount = card
    start = int(Path(f"/sys/class/block/{Path(disk).name}p4/start").read_text())
    assert sectors(disk, 4) == 16 * MiB // SECTOR

    out = run("sh", str(SCRIPT), str(mount))

    end_of_card = 128 * MiB // SECTOR
    assert sectors(disk, 4) == end_of_card - start  # the kernel knows the new size now
    assert on_card(image)[3] == {"start": start, "size": end_of_card - start}  # and the card's table
    assert "grown to the end" in out
    assert (mount / "config.toml").read_text() == "kept\n"  # still mounted, nothing lost
    assert [sectors(disk, n) for n in (1, 2, 3)] == [8 * MiB // SECTOR] * 3


def test_later_boots_leave_it_alone(card):
    image, disk, mount = card
    run("sh", str(SCRIPT), str(mount))
    table = run("sfdisk", "--dump", str(image))
    size = sectors(disk, 4)

    assert run("sh", str(SCRIPT), str(mount)) == ""
    assert sectors(disk, 4) == size
    assert run("sfdisk", "--dump", str(image)) == table
