"""Output files: checked first, written atomically."""

import os
from pathlib import Path

import pytest

from skrank.utils._files import check_output_paths, write_atomic


def test_check_output_paths(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("x")
    out = tmp_path / "out.md"
    check_output_paths({"--out": out, "--json": None}, inputs=[data])
    out.write_text("old")
    with pytest.raises(FileExistsError, match=r"'--out' .*exists; pass --force"):
        check_output_paths({"'--out'": out})
    check_output_paths({"--out": out}, force=True)
    with pytest.raises(ValueError, match="is an input file"):
        check_output_paths({"--out": data}, inputs=[data], force=True)
    link = tmp_path / "link"
    link.symlink_to(data)
    with pytest.raises(ValueError, match="is an input file"):
        check_output_paths({"--out": link}, inputs=[data], force=True)
    with pytest.raises(ValueError, match="--a and --b name the same file"):
        check_output_paths({"--a": tmp_path / "n", "--b": tmp_path / "." / "n"})
    with pytest.raises(ValueError, match="must be a file in an existing folder"):
        check_output_paths({"--out": tmp_path})
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="exists and is not a regular file"):
        check_output_paths({"--out": fifo}, force=True)


def test_write_atomic(tmp_path):
    target = tmp_path / "r.txt"
    write_atomic(target, lambda tmp: Path(tmp).write_text("new"))
    assert target.read_text() == "new"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask

    def crash(tmp):
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, crash)
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r.txt"]
