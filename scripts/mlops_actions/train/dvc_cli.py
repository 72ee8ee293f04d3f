"""`mlops-actions dvc-pull`: before training, pull exactly the data version DVC records (a
`.dvc` file beside the data, or `dvc.lock`), and check it. `--check` only says whether any
training data is DVC-tracked, so the action installs DVC only when it is needed."""

from __future__ import annotations

import argparse

from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("dvc-pull", help="pull the DVC-recorded version of the training data")
    add(p, "data", "the training data paths, one per line")
    add(p, "dvc", "auto (pull what DVC tracks), true (the data must be tracked) or false", "auto")
    p.add_argument("--check", action="store_true", help="only say whether a pull is needed")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.train import dvc

    mode = (args.dvc or "auto").strip().lower()
    if mode not in ("auto", "true", "false"):
        raise UserError(f"dvc: expected auto, true or false, got {args.dvc!r}")
    paths = [line.strip() for line in (args.data or "").splitlines() if line.strip()]
    items = [] if mode == "false" else dvc.tracked(paths)
    if mode == "true" and not items:
        raise UserError(
            "dvc: true, but no training data path has a .dvc file or a dvc.lock entry; "
            "track it with `dvc add <path>` or set dvc: auto"
        )
    if args.check:
        runner.set_output("needed", "true" if items else "false")
        return EXIT_PASS
    notes = dvc.pull(items)
    lines = ["## 📦 Data pulled with DVC", ""] + [f"- {dvc.describe(t)}" for t in items]
    lines += [f"> {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    print(text)
    runner.append_summary(text)
    runner.set_output("pulled", "\n".join(str(t.path) for t in items))
    return EXIT_PASS
