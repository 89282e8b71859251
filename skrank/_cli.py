"""The ``skrank`` command line."""

import argparse
import sys

from ._version import __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skrank",
        description="scikit-learn compatible learning-to-rank with neural networks.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_subparsers(dest="command")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
