"""Command line: ``python -m identity verify FILE`` checks an audit export offline."""

import argparse
import json
import sys

from identity.audit import verify_bundle
from identity.errors import InvalidBundle
from identity.report import Report

# One line on stderr for unreadable input, however long the reason.
MAX_MESSAGE = 500


class _Unreadable(Exception):
    """Raised when a file given on the command line cannot be read as JSON."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m identity",
        description="Verify agent-run credentials offline: no server, database or network.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify", help="verify an audit bundle (/did/export) or saved vc-chain response",
        description="Exit status: 0 every check passed, 1 a check failed, 2 unreadable input.")
    verify.add_argument("file", help="the audit bundle or vc-chain response (JSON)")
    verify.add_argument("--input", metavar="JSONFILE",
                        help="confirm this JSON is the input the credential hashed")
    verify.add_argument("--output", metavar="JSONFILE",
                        help="confirm this JSON is the output the credential hashed")
    verify.add_argument("--execution-id", metavar="ID",
                        help="the execution --input/--output belong to "
                             "(default: the run's root execution)")
    verify.add_argument("--root-did", metavar="DID",
                        help="require this root DID (e.g. from GET /api/v1/did/root)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def _load(path: str, what: str):
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise _Unreadable(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise _Unreadable(f"{what} {path} is empty")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Unreadable(f"{what} {path} is not valid JSON (truncated or corrupted?): "
                          f"{exc}") from None
    except RecursionError:
        raise _Unreadable(f"{what} {path} is nested too deeply to be an audit file") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _verify(args: argparse.Namespace) -> Report:
    data = _load(args.file, "file")
    values = {}
    if args.input is not None:
        values["input_value"] = _load(args.input, "--input")
    if args.output is not None:
        values["output_value"] = _load(args.output, "--output")
    return verify_bundle(data, execution_id=args.execution_id, root_did=args.root_did,
                         **values)


def _one_line(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        report = _verify(args)
    except (_Unreadable, InvalidBundle) as exc:
        message = f"{args.file}: {exc}" if isinstance(exc, InvalidBundle) else str(exc)
    except Exception as exc:  # noqa: BLE001  (any input we did not foresee: a reason, no traceback)
        message = (f"{args.file}: malformed input the verifier cannot read "
                   f"({type(exc).__name__}: {exc})")
    else:
        print(json.dumps(report.to_dict(), indent=2) if args.json else report.render())
        return 0 if report.ok else 1
    message = _one_line(message)
    if args.json:
        print(json.dumps({"ok": False, "error": message}))
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
