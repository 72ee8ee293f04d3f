"""`mlops-actions <command>`: one subcommand per action, usable outside GitHub too.

This module only dispatches. Each command's options and glue live beside its action's code
(`gate/cli.py`, `image/cli.py`, `deploy/cli.py`, `train/cli.py`): adding a command touches its
own package and one line of COMMANDS. Each option falls back to an `INPUT_<NAME>` environment
variable, which is how the composite actions pass their inputs: through `env:`, never pasted
into a script.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from mlops_actions import __version__
from mlops_actions.errors import UserError
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_USAGE, Parser

# command -> the module with its add_parser(subparsers) and run(args) -> exit code
COMMANDS = {
    "gate": "mlops_actions.gate.cli",
    "deploy": "mlops_actions.deploy.cli",
    "deploy-sagemaker": "mlops_actions.sagemaker.cli",
    "build": "mlops_actions.image.cli",
    "train": "mlops_actions.train.cli",
    "dvc-pull": "mlops_actions.train.dvc_cli",
    "package": "mlops_actions.image.package_cli",
    "promote": "mlops_actions.champion.cli",
    "fetch-champion": "mlops_actions.champion.fetch_cli",
    "score-champion": "mlops_actions.champion.score_cli",
    "monitor": "mlops_actions.monitor.cli",
    "dispatch": "mlops_actions.monitor.dispatch_cli",
    "validate-data": "mlops_actions.validation.cli",
    "infer-schema": "mlops_actions.validation.infer_cli",
    "pipeline-plan": "mlops_actions.pipeline.cli",
    "pipeline-report": "mlops_actions.pipeline.cli",
    "champions": "mlops_actions.champion.history_cli",
    "release-plan": "mlops_actions.champion.release_cli",
    "rollback-plan": "mlops_actions.champion.rollback_cli",
    "release-readback": "mlops_actions.champion.readback_cli",
}

# The pip extra that brings a command's dependencies (pyproject.toml's optional-dependencies).
EXTRAS = {
    "gate": "gate",
    "deploy": "deploy",
    "deploy-sagemaker": "sagemaker",
    "build": "ecr",
    "train": "train",
    "dvc-pull": "dvc",
    "package": "train",
    "promote": "champion",
    "fetch-champion": "champion",
    "score-champion": "champion",
    "champions": "champion",
    "release-plan": "champion",
    "rollback-plan": "champion",
    "release-readback": "champion",
    "monitor": "monitor",
    "dispatch": "monitor",
    "validate-data": "validate",
    "infer-schema": "validate",
}
# A module that only one extra brings, whatever the command (an MLflow store, DVC data).
MODULE_EXTRAS = {"mlflow": "mlflow", "dvc": "dvc", "dvc_s3": "dvc"}
# An import name -> the package pip installs, where they differ.
DISTRIBUTIONS = {
    "yaml": "PyYAML",
    "github": "PyGithub",
    "botocore": "boto3",
    "mlflow": "mlflow-skinny",
}


def _modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(path) for name, path in COMMANDS.items()}


def build_parser() -> Parser:
    parser = Parser(prog="mlops-actions", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"mlops-actions {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=Parser)
    for module in dict.fromkeys(_modules().values()):  # a module may add several commands
        module.add_parser(sub)
    return parser


def _missing_extra(command: str, exc: ModuleNotFoundError) -> UserError | None:
    """A third-party package the command needs is not installed: say which extra brings it."""
    module = (exc.name or "").split(".")[0]
    if not module or module == "mlops_actions":
        return None  # our own import failed: a bug, keep the traceback
    extra = MODULE_EXTRAS.get(module) or EXTRAS.get(command, "all")
    return UserError(
        f"{command}: needs the Python package {DISTRIBUTIONS.get(module, module)!r}, which is "
        "not installed; "
        f'install it with: pip install "mlops-actions[{extra}]"'
    )


def _report(exc: UserError) -> int:
    runner.annotate("error", exc.message, file=exc.file, line=exc.line)
    if runner.in_actions():
        # The message may quote a data file's columns or a store's values: fenced, so it
        # shows as text and never as markup.
        fence = runner.code_fence(exc.message)
        runner.append_summary(
            f"### ❌ mlops-actions could not run\n\n{fence}text\n{exc.message}\n{fence}"
        )
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    command = ""
    try:
        args = build_parser().parse_args(argv)
        command = args.subcommand
        code: int = _modules()[command].run(args)
        return code
    except ModuleNotFoundError as exc:
        missing = _missing_extra(command or "mlops-actions", exc)
        if missing is None:
            raise
        return _report(missing)
    except UserError as exc:
        return _report(exc)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`mlops-actions monitor ... | head -1`): stop quietly, and keep
        # Python from complaining again as it flushes stdout on the way out.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
