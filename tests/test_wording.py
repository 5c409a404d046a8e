"""Counts in messages: "1 frame", never "1 frames"."""

from facial_emotion.wording import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "frame") == "1 frame"
    assert [counted(n, "face") for n in (0, 2)] == ["0 faces", "2 faces"]
    assert counted(29009, "face") == "29,009 faces"
    assert counted(3, "person", "people") == "3 people"
