"""`quantdesk keys`: exchange API keys in the operating system's keyring (never in a file or the database)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.commands.common import context
from app.errors import UserError

KEY_EXCHANGES = ("binance", "upbit")


def register(sub: Any) -> None:
    p = sub.add_parser("keys", help="store, list or delete exchange API keys (kept in the OS keyring)")
    ks = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    s = ks.add_parser("set", help="store an exchange's API key and secret (prompted, not echoed; or two stdin "
                      "lines when stdin is not a terminal)")
    s.add_argument("--exchange", required=True, choices=KEY_EXCHANGES)
    s.set_defaults(func=_set)
    ks.add_parser("list", help="exchanges with keys stored, the key masked").set_defaults(func=_list)
    d = ks.add_parser("delete", help="remove an exchange's keys from the keyring")
    d.add_argument("--exchange", required=True, choices=KEY_EXCHANGES)
    d.set_defaults(func=_delete)


def read_key_and_secret(stdin: Any = None) -> tuple[str, str]:
    """From a terminal: two prompts without echo. Otherwise: the key on the first line, the secret on the second."""
    stream = stdin or sys.stdin
    if stream.isatty():
        import getpass

        return getpass.getpass("API key: "), getpass.getpass("API secret: ")
    lines = [line.strip() for line in stream.read(64 * 1024).splitlines() if line.strip()]
    if len(lines) < 2:
        raise UserError("keys set: give the API key and the secret on two lines of standard input")
    return lines[0], lines[1]


def _set(args: argparse.Namespace) -> int:
    key, secret = read_key_and_secret()
    stored = context(args).keys.set(args.exchange, key, secret)
    print(f"{args.exchange}: stored key {stored.masked_key} in the {context(args).keys.backend_name} keyring")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = context(args).keys.list()
    for exchange, masked in rows:
        print(f"{exchange:<8} {masked}")
    if not rows:
        print("no exchange keys stored (add them with: quantdesk keys set --exchange binance|upbit)")
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not context(args).keys.delete(args.exchange):
        raise UserError(f"no {args.exchange} keys are stored")
    print(f"{args.exchange}: keys removed from the keyring")
    return 0
