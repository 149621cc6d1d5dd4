"""The `error-assets` console script.

Only the chosen sub-command's module is imported, so `error-assets ci` starts without
dagster, pandas or anthropic. Each command module defines `add_arguments(parser)` and
`run(args) -> int`, and imports what it needs inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("error_assets.commands.sample", "write a realistic archive of CI runs"),
    "demo": ("error_assets.commands.demo", "run the pipeline over the last 24 h of sample data"),
    "extract": ("error_assets.commands.extract", "extract error occurrences from CI files"),
    "cluster": ("error_assets.commands.cluster", "fingerprint and cluster error occurrences"),
    "classify": ("error_assets.commands.classify", "classify errors (rules, cache, Claude)"),
    "ci": ("error_assets.commands.ci", "classify the failing job from inside a workflow"),
    "analyze": ("error_assets.commands.analyze", "report on the failed jobs of the last N hours"),
    "trends": ("error_assets.commands.trends", "print the trend from the store"),
}


def build_parser(command: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="error-assets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, summary) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=summary, description=summary)
        if name == command:
            importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
