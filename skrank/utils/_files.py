"""Safe output files: checked before any work, written atomically.

A tool that writes results (the ``skrank`` command line) must never replace
its own input, never silently replace a file that exists, never let two of
its outputs collide, and never leave a half-written file behind when it
crashes or is interrupted mid-write.
"""

import contextlib
import os
import tempfile

__all__ = ["check_output_paths", "write_atomic"]


def check_output_paths(outputs, *, inputs=(), force=False):
    """Refuse output paths that are inputs, collide, exist, or cannot be files.

    Parameters
    ----------
    outputs : dict of str to path-like or None
        The output paths by a name used in messages (e.g. ``"--out"``);
        None entries are skipped.
    inputs : iterable of path-like, default=()
        Files that must never be written.
    force : bool, default=False
        Whether an existing regular file may be replaced.

    Raises
    ------
    ValueError
        If an output is an input, two outputs name the same file, the
        output's folder does not exist or it names a folder or a special
        file (FIFO, device).
    FileExistsError
        If an output exists and ``force`` is False.
    """
    inputs = {os.path.realpath(f) for f in inputs}
    seen = {}
    for name, path in outputs.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in inputs:
            raise ValueError(
                f"{name} '{path}' is an input file; refusing to write over it. "
                "Choose another file."
            )
        if real in seen:
            raise ValueError(
                f"{seen[real]} and {name} name the same file '{path}'; give each "
                "output its own file."
            )
        seen[real] = name
        if os.path.isdir(real) or not os.path.isdir(os.path.dirname(real)):
            raise ValueError(f"{name} '{path}' must be a file in an existing folder.")
        if os.path.exists(real) and not os.path.isfile(real):
            raise ValueError(f"{name} '{path}' exists and is not a regular file.")
        if os.path.lexists(path) and not force:
            raise FileExistsError(
                f"{name} '{path}' exists; pass --force to replace it."
            )


def write_atomic(path, write):
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it.

    The rename (:func:`os.replace`) is atomic: readers see the old file or
    the complete new one, never a part. On any error, or ``KeyboardInterrupt``,
    the temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : path-like
        The file to create or replace.
    write : callable
        Called with the temporary file's path; writes the content.
    """
    path = os.path.realpath(path)
    folder, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0o600 is not what users expect
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
