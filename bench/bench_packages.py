"""Package size and cold-start import cost of each service.

For every service: the size of its Lambda zip (bytes and entries), and how
long importing each handler module takes in a fresh Python process (the
median of several runs; the init phase of a cold start pays this), next to
the cost of importing aws_lambda_powertools alone and boto3 alone. Figures
only: nothing here passes or fails.

The imports run from the service's unpacked package (built for this
interpreter), first on sys.path, with the environment its template gives
the function (placeholder values for imported names) and fake credentials.
Limitation: this is the local CPython, not the python3.12 Lambda runtime;
compare the ratios, not the absolute times.
"""

import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from switchyard_infra.build import build_service, build_service_dir
from switchyard_infra.intrinsics import Resolver
from switchyard_infra.services import SERVICES, Service
from switchyard_infra.templates import load_template

RUNS = 5
STAGE = "bench"
PROBE = (
    "import time, sys\n"
    "start = time.perf_counter()\n"
    "import importlib; importlib.import_module(sys.argv[1])\n"
    "print(time.perf_counter() - start)\n"
)


def _function_environments(service: Service) -> dict[str, dict[str, str]]:
    """Handler module -> environment, from the service's template."""
    template = load_template(service.template)
    refs: dict[str, Any] = {
        name: spec.get("Default", "") for name, spec in template["Parameters"].items()
    }
    refs.update(
        {
            "Stage": STAGE,
            "AWS::Region": "us-east-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
        }
    )
    resolver = Resolver(
        refs, None, lambda name: f"placeholder-{name}", template.get("Conditions", {})
    )
    environments = {}
    for spec in template["Resources"].values():
        if spec["Type"] != "AWS::Lambda::Function":
            continue
        props = spec["Properties"]
        module = props["Handler"].rsplit(".", 1)[0]
        variables = resolver.resolve(props.get("Environment", {})).get("Variables", {})
        environments[module] = {k: str(v) for k, v in variables.items()}
    return environments


def _import_seconds(
    module: str, path: Path | None, env: dict[str, str]
) -> tuple[float, float]:
    """Median and minimum seconds to import module in a fresh interpreter.

    The minimum is the least disturbed by other load on the machine.
    """
    run_env = {
        **os.environ,
        **env,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    run_env.pop("AWS_PROFILE", None)
    if path is not None:
        run_env["PYTHONPATH"] = str(path)
    samples = []
    # One unmeasured run fills the bytecode cache, as a Lambda zip's first
    # cold start would not; the measured runs then compare like with like.
    for index in range(RUNS + 1):
        result = subprocess.run(
            [sys.executable, "-c", PROBE, module],
            env=run_env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"importing {module} failed: {result.stderr.strip()[-500:]}"
            )
        if index:
            samples.append(float(result.stdout.strip()))
    return statistics.median(samples), min(samples)


def _ms(times: tuple[float, float]) -> str:
    return f"{times[0] * 1000:8.1f} ms (min {times[1] * 1000:6.1f})"


def main() -> None:
    print(
        f"import times: median of {RUNS} fresh interpreters ({sys.version.split()[0]})"
    )
    powertools = _import_seconds("aws_lambda_powertools", None, {})
    logging = _import_seconds("aws_lambda_powertools.logging", None, {})
    boto3 = _import_seconds("boto3", None, {})
    print(f"aws_lambda_powertools alone       {_ms(powertools)}")
    print(f"aws_lambda_powertools.logging     {_ms(logging)}")
    print(f"boto3 alone (runtime-provided)    {_ms(boto3)}")
    print()
    print(
        f"{'service':<14} {'zip bytes':>10} {'entries':>8}  {'handler module':<24}"
        f" {'import':>26} {'/ powertools':>12}"
    )
    for service in SERVICES.values():
        zip_path = build_service(service.name)
        with zipfile.ZipFile(zip_path) as archive:
            entries = len(archive.infolist())
        size = zip_path.stat().st_size
        unpacked = build_service_dir(service.name)
        for module, env in sorted(_function_environments(service).items()):
            times = _import_seconds(module, unpacked, env)
            print(
                f"{service.name:<14} {size:>10} {entries:>8}  {module:<24} "
                f"{_ms(times)} {times[0] / powertools[0]:>12.2f}"
            )


if __name__ == "__main__":
    main()
