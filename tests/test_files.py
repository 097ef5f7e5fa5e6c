"""base/files: a file's SHA-256 read in blocks, never whole."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest

from sheet_tools.base import files
from sheet_tools.base.files import HASH_BLOCK, sha256_file


def test_sha256_of_a_file_larger_than_one_block(tmp_path: Path) -> None:
    data = os.urandom(2 * HASH_BLOCK + 12345)  # two full blocks and a part block
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 6, 7, 8, 700, 701])
def test_sha256_whatever_the_block_boundaries(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "small.bin"
    path.write_bytes(data)
    assert sha256_file(path, block_size=7) == hashlib.sha256(data).hexdigest()


class _RecordingReader(io.BufferedReader):
    """A binary file that notes the size of every read asked of it."""

    sizes: list[int]

    def read(self, size: int | None = -1, /) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def test_sha256_never_reads_the_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * HASH_BLOCK + 1)
    path = tmp_path / "huge.xlsx"
    path.write_bytes(data)
    opened: list[_RecordingReader] = []

    def recording_open(target: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        assert mode == "rb"
        reader = _RecordingReader(io.FileIO(target, "r"))
        reader.sizes = []
        opened.append(reader)
        return reader

    monkeypatch.setattr(files, "open", recording_open, raising=False)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert len(opened) == 1
    sizes = opened[0].sizes
    assert len(sizes) >= 4  # four blocks of data, then the empty read that ends it
    assert all(0 < size <= HASH_BLOCK for size in sizes), sizes
    assert max(sizes) < len(data)
