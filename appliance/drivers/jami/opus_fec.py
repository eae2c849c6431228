"""Opus loss recovery for the daemon: ``opus_fec.c``, preloaded into jamid.

Debian 12's jamid is built against Debian's FFmpeg 5.1, whose libopus decoder has no
``decode_fec`` option (it is a patch of Jami's own FFmpeg), so the daemon's request for FEC fails
unchecked and a lost packet is simply not decoded: no FEC, no concealment, 20 ms of speech cut out
of the stream (measured: PESQ-WB 2.15 at 5 % loss, 4.4 on the clean link). The C file does what
Jami's patch does, from outside the daemon; see its comment.

The image builds it into :data:`INSTALLED` (image/customize, which has a compiler for a while);
elsewhere (a desktop, the tests) it is compiled once into the daemon's directory with the
machine's C compiler, and without one the daemon runs as Debian ships it (a warning says so).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("opus_fec.c")
INSTALLED = Path("/usr/lib/appliance/jami-opus-fec.so")


def compile_command(out: Path, source: Path) -> list[str]:
    """The compiler's command line that builds the library at ``out`` (also image/customize's)."""
    cc = shutil.which("cc") or shutil.which("gcc") or "cc"
    return [cc, "-O2", "-Wall", "-shared", "-fPIC", "-o", str(out), str(source), "-ldl", "-lpthread", "-lm"]


def library(root: Path) -> Path | None:
    """The library to preload: the image's, else one built under ``root`` (kept, by the source's
    hash, for the next start); None if it can be neither found nor built. Blocking (a compile
    takes ~0.2 s): call it in a thread."""
    if INSTALLED.exists():
        return INSTALLED
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    built = root / f"opus-fec-{digest}.so"
    if built.exists():
        return built
    if not (shutil.which("cc") or shutil.which("gcc")):
        log.warning("no %s and no C compiler: the daemon conceals no lost audio packets", INSTALLED)
        return None
    for stale in root.glob("opus-fec-*.so"):  # built from an older source
        stale.unlink()
    partial = built.with_suffix(".so.partial")
    command = compile_command(partial, SOURCE)  # our own source, the machine's compiler
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    if done.returncode != 0:
        log.warning("could not build %s (the daemon conceals no lost audio packets): %s", SOURCE, done.stderr)
        return None
    partial.replace(built)  # whole or not at all: a start cut short leaves only the partial file
    return built


def install(out: Path = INSTALLED) -> None:
    """Build the library at ``out`` (image/customize, in the root while it has a compiler)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(compile_command(out, SOURCE), check=True)  # noqa: S603 (our own source, the root's compiler)
