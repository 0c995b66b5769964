#!/usr/bin/env python
"""Django's command-line utility for the Switchyard console."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Runs from a checkout without an install: the package lives in src/.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchyard_console.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
