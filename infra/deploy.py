#!/usr/bin/env python3
"""Deploy one Switchyard target: ``infra/deploy.py TARGET [--stage dev]``.

Targets: shared, user-api, router, connectors, dlq-processor, api, site,
console-static, console-env. See infra/README.md; the logic lives in
switchyard_infra.deploy.
"""

import sys
from pathlib import Path

try:
    from switchyard_infra.deploy import main
except ImportError:  # run from a checkout without the workspace installed
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
    from switchyard_infra.deploy import main

if __name__ == "__main__":
    sys.exit(main())
