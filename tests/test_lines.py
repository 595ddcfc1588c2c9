"""engine/lines.py: the physical line a CSV record starts on, as an editor numbers it."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from funnelcli.engine.lines import Layout, physical

# line 1 header; 2-4 a quoted 3-line field; 5 blank; 6 a doubled quote; 7-8 a quoted CRLF
TEXT = 'id,note\nA,"one\ntwo\nthree"\n\nB,"say ""hi"""\nC,"x\r\ny"\nD,last\n'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_rows_and_records_map_to_their_first_line(tmp_path: Path, newline: str, bom: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(bom + TEXT.replace("\n", newline).replace("\r\r", "\r").encode())
    layout = Layout(str(path))
    assert layout.data_rows({1, 2, 3, 4, 5}) == {1: 2, 2: 6, 3: 7, 4: 9}  # no row 5
    # DuckDB's error lines count the header and the blank line as records
    assert layout.records({1, 2, 3, 4, 5, 6}) == {1: 1, 2: 2, 3: 5, 4: 6, 5: 7, 6: 9}


def test_an_escape_character_a_gzip_and_an_over_long_field(tmp_path: Path) -> None:
    path = tmp_path / "f.csv.gz"
    with gzip.open(path, "wt", newline="") as stream:
        stream.write('id;note\nA;"a \\" quote\nand a line"\nB;' + "x" * 300_000 + "\nC;z\n")
    layout = Layout(str(path), delimiter=";", quote='"', escape="\\")
    assert layout.data_rows({1, 2, 3}) == {1: 2, 2: 4, 3: 5}
    assert layout.first_longer(200_000) == 4


def test_without_a_layout_or_a_readable_one_the_row_number_is_kept(tmp_path: Path) -> None:
    assert physical(None, {1, 7}) == {1: 2, 7: 8}  # a converted sheet: its rows are its lines
    (tmp_path / "f.csv").write_text(TEXT)
    assert Layout(str(tmp_path / "f.csv"), delimiter="||").data_rows({2}) == {}
    assert physical(Layout(str(tmp_path / "gone.csv")), {3}) == {3: 4}
