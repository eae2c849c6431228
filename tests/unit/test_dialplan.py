import pytest

from appliance.phone.dialplan import DigitMap, DigitMapError, MatchKind

C, A, P, N, B = MatchKind.COMPLETE, MatchKind.AMBIGUOUS, MatchKind.PARTIAL, MatchKind.NONE, MatchKind.BLOCKED

CISCO = "( <9:>[2-9]xxxxxx | *xx | [3469]11 | 0 | 00 | 1900x.! | 1[2-9]xx[2-9]xxxxxx | 011xx. )"


@pytest.mark.parametrize(
    ("digit_map", "keys", "kind", "number"),
    [
        ("xxx", "12", P, ""),
        ("xxx", "123", C, "123"),
        ("xxx", "1234", N, ""),
        ("[2-9]11", "911", C, "911"),
        ("[2-9]11", "111", N, ""),
        ("[135]x", "3", P, ""),
        ("[135]x", "2", N, ""),
        ("[1-35-7]", "6", C, "6"),
        ("[1-35-7]", "4", N, ""),
        ("xx.", "5", A, "5"),
        ("xx.", "5551234", A, "5551234"),
        ("*xx|xx.", "*7", P, ""),
        ("*xx|xx.", "*78", C, "*78"),
        ("x|xx", "4", A, "4"),
        ("x|xx", "42", C, "42"),
        (CISCO, "95551234", C, "5551234"),
        (CISCO, "9555", P, ""),
        (CISCO, "0", A, "0"),
        (CISCO, "00", C, "00"),
        (CISCO, "411", C, "411"),
        (CISCO, "19005551234", B, "19005551234"),
        (CISCO, "1900", B, "1900"),
        (CISCO, "18005551234", C, "18005551234"),
        (CISCO, "01144", A, "01144"),
        (CISCO, "8", N, ""),
        ("<:1212>[2-9]xxxxxx", "5551234", C, "12125551234"),
        ("<0:+>xx.", "044", A, "+44"),
        ("(xx#)", "12#", C, "12#"),
        ("*#x", "*#5", C, "*#5"),
        ("  ( x x x )  ", "123", C, "123"),
        ("[ab]x", "A1", C, "A1"),
    ],
)
def test_match(digit_map, keys, kind, number):
    result = DigitMap.parse(digit_map).match(keys)
    assert result.kind is kind
    assert result.number == number


def test_first_full_match_wins_for_substitution():
    digit_map = DigitMap.parse("<9:>xxx|9xxx")
    assert digit_map.match("9123").number == "123"
    assert DigitMap.parse("9xxx|<9:>xxx").match("9123").number == "9123"


def test_block_wins_over_an_earlier_allow():
    assert DigitMap.parse("x.|1900x.!").match("19001").kind is B


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "empty"),
        ("(xx", "parentheses"),
        ("x||x", "empty alternative"),
        ("[2-9", "without ']'"),
        ("[]", "empty [set]"),
        ("[9-2]", "bad range"),
        (".x", "'.' must follow"),
        ("x..", "'.' must follow"),
        ("<9>", "<dialed:replacement>"),
        ("<q:1>", "not a key"),
        ("xQ", "'Q' is not a key"),
        ("<:12>", "at least one key"),
    ],
)
def test_parse_errors_say_what_is_wrong(bad, words):
    with pytest.raises(DigitMapError, match=words.replace("[", r"\[").replace("(", r"\(")):
        DigitMap.parse(bad)


def test_repeat_cannot_loop_forever_on_long_input():
    assert DigitMap.parse("x.x.x.").match("1" * 500).kind is A
