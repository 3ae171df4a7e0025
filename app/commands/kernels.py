"""`quantdesk kernels`: compile the engine's kernels ahead of time, so a command starts without numba's set-up."""

from __future__ import annotations

import argparse
from typing import Any

from app.commands.common import context


def register(sub: Any) -> None:
    p = sub.add_parser(
        "kernels", help="compile the engine ahead of time (faster start-up) or show whether it is",
        description="Without a build, each process sets numba up (~0.5 s) and loads the engine from numba's "
        "cache. `build` compiles the same kernels once into an extension module in the user cache (a C "
        "compiler is needed); a process then calls them without loading numba. Any change to the code makes a "
        "build stale: it is ignored until built again. QUANTDESK_KERNELS=jit turns compiled kernels off.")
    ks = p.add_subparsers(dest="kernels_command", metavar="ACTION", required=True)
    b = ks.add_parser("build", help="compile the kernels into the user cache (two to three minutes)")
    b.add_argument("--quiet", action="store_true", help="print nothing but errors")
    b.set_defaults(func=_build)
    ks.add_parser("status", help="whether this code's kernels are compiled, and where").set_defaults(func=_status)


def _build(args: argparse.Namespace) -> int:
    def say(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    folder = context(args).build_kernels(say)
    say(f"compiled kernels ready in {folder}")
    return 0


def _status(args: argparse.Namespace) -> int:
    folder = context(args).built_kernels()
    if folder is None:
        print("not compiled for this code: each process sets numba up first (run `quantdesk kernels build`)")
        return 1
    print(f"compiled: {folder}")
    return 0
