"""Byte-for-byte reproducible zip archives.

The same tree gives the same bytes wherever and whenever it is zipped: entries
sorted by path, one fixed timestamp, fixed Unix permissions (0644, which is
what Lambda needs: a shared object only has to be readable), no directory
entries, no extra fields. Limitation: DEFLATE output depends on the zlib
build, so two machines with different zlib versions may still differ.
"""

import os
import zipfile
from collections.abc import Iterable
from pathlib import Path

# The earliest time a zip can record (DOS epoch).
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
# ZipInfo.create_system value for Unix, so the permission bits are honoured.
UNIX = 3
SKIPPED_DIRS = {"__pycache__"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def tree_files(root: Path) -> list[tuple[str, Path]]:
    """(archive path, file) for every file under root, sorted by archive path."""
    files: list[tuple[str, Path]] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS]
        for filename in filenames:
            if filename.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(directory) / filename
            files.append((path.relative_to(root).as_posix(), path))
    return sorted(files)


def write_zip(entries: Iterable[tuple[str, Path]], destination: Path) -> int:
    """Write the files to a reproducible zip; returns how many entries it holds."""
    count = 0
    ordered = sorted(entries)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for arcname, path in ordered:
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE_TIME)
            info.create_system = UNIX
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
            count += 1
    return count
