"""Where the daemon's Opus loss recovery comes from (appliance/drivers/jami/opus_fec.py): the
image's build, else one made once under the daemon's directory, else none, said in the log."""

import logging
import shutil

import pytest

from appliance.drivers.jami import opus_fec


def test_the_images_library_comes_first(tmp_path, monkeypatch):
    installed = tmp_path / "jami-opus-fec.so"
    installed.write_bytes(b"")
    monkeypatch.setattr(opus_fec, "INSTALLED", installed)
    assert opus_fec.library(tmp_path / "jami") == installed


def test_without_a_compiler_the_daemon_runs_as_debian_ships_it(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(opus_fec, "INSTALLED", tmp_path / "none.so")
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with caplog.at_level(logging.WARNING):
        assert opus_fec.library(tmp_path) is None
    assert "no C compiler" in caplog.text


@pytest.mark.skipif(not shutil.which("cc"), reason="needs a C compiler")
def test_a_source_that_does_not_build_leaves_no_library(tmp_path, monkeypatch, caplog):
    broken = tmp_path / "opus_fec.c"
    broken.write_text("int broken(void) { return }\n")
    monkeypatch.setattr(opus_fec, "INSTALLED", tmp_path / "none.so")
    monkeypatch.setattr(opus_fec, "SOURCE", broken)
    (tmp_path / "jami").mkdir()
    (tmp_path / "jami" / "opus-fec-0000000000000000.so").write_bytes(b"old")  # an older source's
    with caplog.at_level(logging.WARNING):
        assert opus_fec.library(tmp_path / "jami") is None
    assert "could not build" in caplog.text
    assert list((tmp_path / "jami").glob("*.so")) == []


@pytest.mark.skipif(not shutil.which("cc"), reason="needs a C compiler")
def test_the_image_builds_it_where_the_daemon_looks(tmp_path):
    out = tmp_path / "usr" / "lib" / "appliance" / "jami-opus-fec.so"
    opus_fec.install(out)  # what image/customize runs, into INSTALLED
    assert out.read_bytes()[:4] == b"\x7fELF"
