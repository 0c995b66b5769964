"""``python -m switchyard_local``: the local runtime's command line."""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="switchyard-local")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="run the whole system locally")
    args = parser.parse_args(argv)
    if args.command == "up":
        from switchyard_local.up import run

        return run()
    return 2


if __name__ == "__main__":
    sys.exit(main())
