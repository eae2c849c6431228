"""``appliance callerid``: bad input is refused with exit code 2 and the option named."""

import wave

import pytest

from appliance.app import main


def callerid(capsys, *args):
    with pytest.raises(SystemExit) as exited:
        main(["callerid", *args])
    return exited.value.code, capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--standard", "bellcore", "--number", "555-12a"], "--number: digits only"),
        (["--standard", "bellcore", "--number", "1" * 16], "--number: at most 15 digits"),
        (["--standard", "bellcore", "--sdmf", "--number", "1" * 11], "--number: at most 10 digits"),
        (["--standard", "etsi-fsk", "--sdmf"], "--sdmf: only with --standard bellcore"),
        (["--standard", "bellcore", "--when", "1203"], "--when: must be MMDDHHMM"),
        (["--standard", "bellcore", "--when", "13010900"], "--when: 13010900 is not a date and time"),
        (["--standard", "bellcore", "--when", "12032460"], "--when: 12032460 is not a date and time"),
        (["--standard", "bellcore", "--name", "Bell\x07"], "--name: printable characters only"),
        (["--standard", "clip"], "--standard: invalid choice"),
    ],
)
def test_bad_input_names_the_option(tmp_path, capsys, args, named):
    out = tmp_path / "cid.wav"
    code, printed = callerid(capsys, str(out), *args)
    assert code == 2
    assert named in printed.err
    assert not out.exists()


def test_a_good_render_says_what_it_wrote(tmp_path, capsys):
    out = tmp_path / "cid.wav"
    code, printed = callerid(capsys, str(out), "--standard", "bellcore", "--number", "5551234567",
                             "--name", "Alice", "--when", "02291200", "--sdmf")  # fmt: skip
    assert code == 0
    assert printed.out.startswith(f"{out}: bellcore, ")
    assert "message 0412" in printed.out  # SDMF, 18 bytes: the date, the number
    with wave.open(str(out), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
