"""`mlops-actions score-champion` (the score-champion action): run the champion's serving image
over the challenger's holdout features, and write the predictions the gate pairs by id."""

from __future__ import annotations

import argparse
import shlex

from mlops_actions.errors import UserError, shown
from mlops_actions.github import runner
from mlops_actions.inputs import EXIT_PASS, Parser, Subparsers, add, number


def add_parser(sub: Subparsers[Parser]) -> None:
    p = sub.add_parser("score-champion", help="score the champion's serving image on a holdout")
    add(p, "image", "the champion's serving image, by digest (fetch-champion's serving-image-ref)")
    add(p, "features", "the holdout's feature rows with their id column (CSV)")
    add(p, "id-column", "the column that names each row (default: the features' first column)")
    add(p, "output", "where the champion's predictions go (CSV)", "champion-predictions.csv")
    add(p, "command", "the serving image's batch command (reads CSV on stdin)", "predict")
    add(p, "timeout-minutes", "how long the scoring may take", "30")
    add(p, "registry", "registry to log in to for the pull")
    add(p, "username", "registry user")
    add(p, "password", "registry password or token")


def run(args: argparse.Namespace) -> int:
    from mlops_actions.champion import score
    from mlops_actions.docker import job_docker_config

    try:
        command = tuple(shlex.split(args.command or "predict"))
    except ValueError as exc:
        raise UserError(f"command: cannot split {shown(args.command)} ({exc})") from None
    minutes = number(args.timeout_minutes, "timeout-minutes", minimum=0.1, maximum=7200)
    request = score.ScoreRequest(
        image=(args.image or "").strip(),
        features=(args.features or "").strip(),
        output=(args.output or "champion-predictions.csv").strip(),
        id_column=score.id_column((args.features or "").strip(), (args.id_column or "").strip()),
        command=command,
        timeout_seconds=(minutes or 30) * 60,
        registry=args.registry or None,
        username=args.username or "",
        password=args.password or "",
    )
    score.check(request)  # before anything is pulled
    said: list[str] = []
    with job_docker_config() as docker:
        try:
            result = score.score(docker, request, said)
        finally:
            if said:  # the champion's image wrote these: never workflow commands
                runner.print_untrusted("\n".join(said[-20:]))
    if result.scored:
        text = (
            f"## 🏁 Champion scored on this holdout\n\n{result.rows:,} rows by `{result.image}` "
            f"in {result.seconds:.1f} s: the gate compares both models on the same rows.\n"
        )
    else:
        text = f"## ⚠️ Champion not scored\n\n{result.reason}.\n"
        runner.annotate("warning", result.reason, title="score-champion")
    print(text)
    runner.append_summary(text)
    runner.set_output("scored", "true" if result.scored else "false")
    runner.set_output("predictions-path", str(result.path.resolve()) if result.path else "")
    runner.set_output("rows", str(result.rows))
    runner.set_output("seconds", f"{result.seconds:.1f}")
    runner.set_output("reason", result.reason)
    runner.set_output("id-column", request.id_column)
    return EXIT_PASS
