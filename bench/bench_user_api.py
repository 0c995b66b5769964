"""How heavy the user API's Lambda is: handler import time and zip size.

Run from the repository root::

    .venv/bin/python -m bench user_api

Import time is measured in fresh interpreters (a cold start imports the
handler once), as the median of several runs, next to the interpreter's own
start and next to importing boto3 (which the handler defers to its first
request). The zip holds the package and its runtime dependencies minus what
the Lambda Python runtime already provides (boto3 and its dependencies),
compressed the way Lambda zips are; infra's ``make build SERVICE=user-api``
makes the real artifact. Prints figures; never pass/fail.
"""

import io
import re
import statistics
import subprocess
import sys
import time
import zipfile
from importlib.metadata import distribution, requires
from pathlib import Path

RUNS = 7
PACKAGE = "switchyard-user-api"
# Shipped with the Lambda Python runtime; never packaged.
RUNTIME_PROVIDED = {
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "python-dateutil",
    "six",
}


def import_seconds(statement: str) -> float:
    """Median wall time of a fresh interpreter running ``statement``."""
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def runtime_distributions(name: str, seen: set[str] | None = None) -> set[str]:
    """``name`` and every distribution it needs at run time, without extras."""
    seen = set() if seen is None else seen
    canonical = re.sub(r"[-_.]+", "-", name).lower()
    if canonical in seen or canonical in RUNTIME_PROVIDED:
        return seen
    seen.add(canonical)
    for requirement in requires(canonical) or []:
        if "extra ==" in requirement:
            continue
        runtime_distributions(
            re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0], seen
        )
    return seen


def zip_size(names: set[str]) -> tuple[int, int, int]:
    """Files, bytes and deflated bytes of the distributions' importable files."""
    buffer = io.BytesIO()
    files = raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(names):
            dist = distribution(name)
            for entry in sorted(dist.files or [], key=str):
                text = str(entry)
                if (
                    "__pycache__" in text
                    or text.endswith(".pyc")
                    or ".dist-info" in text
                ):
                    continue
                path = Path(dist.locate_file(entry))
                if text.endswith(".pth"):
                    # An editable install points at its source folder.
                    for line in path.read_text().splitlines():
                        source = Path(line.strip())
                        for file in sorted(source.rglob("*")):
                            if file.is_file() and "__pycache__" not in file.parts:
                                data = file.read_bytes()
                                archive.writestr(str(file.relative_to(source)), data)
                                files, raw = files + 1, raw + len(data)
                    continue
                if path.is_file():
                    data = path.read_bytes()
                    archive.writestr(text, data)
                    files, raw = files + 1, raw + len(data)
    return files, raw, len(buffer.getvalue())


def report(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> None:
    baseline = import_seconds("pass")
    handler = import_seconds("import user_api.handler")
    logger = import_seconds("from aws_lambda_powertools import Logger")
    boto3 = import_seconds("import boto3")
    report(f"interpreter start:        {baseline * 1000:7.1f} ms (median of {RUNS})")
    report(
        f"import user_api.handler:  {(handler - baseline) * 1000:7.1f} ms over start"
    )
    report(f"  of which Powertools:    {(logger - baseline) * 1000:7.1f} ms")
    report(f"import boto3 (deferred):  {(boto3 - baseline) * 1000:7.1f} ms over start")

    names = runtime_distributions(PACKAGE)
    files, raw, packed = zip_size(names)
    report(f"zip contents: {', '.join(sorted(names))}")
    report(
        f"zip: {files} files, {raw // 1024} KiB unpacked, {packed // 1024} KiB zipped"
    )


if __name__ == "__main__":
    main()
