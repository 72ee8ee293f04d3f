# shellcheck shell=bash
# Source me: create or refresh the development venv (.venv) from a clean clone, then put it
# first on PATH. The set-up runs in a subshell, so the caller's shell options stay as they were.
#   - Python 3.10+ (python3, or $PYTHON);
#   - the package in editable mode with its dev extra, constrained to the same pinned versions
#     the actions install (scripts/requirements/*.in, example-project/requirements.txt);
#   - Debian packages when missing: shellcheck, docker.io, docker-registry, debootstrap,
#     apache2-utils, skopeo, chromium (the report tests render report.html in it);
#   - the npm `mermaid` package, pinned, in ~/.cache/mlops-actions/node (outside the tree), which
#     the report tests load in that Chromium to parse every Mermaid block.
# Re-installs only when pyproject.toml or a requirements file changed.
_mlops_setup() (
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO_ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"

"$PYTHON_BIN" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || {
  echo "error: $PYTHON_BIN is $("$PYTHON_BIN" -V 2>&1); mlops-actions needs Python 3.10+ (set PYTHON=...)" >&2
  exit 1
}
[ -x "$VENV/bin/python" ] || "$PYTHON_BIN" -m venv "$VENV"

stamp="$VENV/.mlops-actions-installed"
want="$(cat "$REPO_ROOT/pyproject.toml" "$REPO_ROOT/scripts/requirements/"*.txt \
  "$REPO_ROOT/example-project/requirements.txt" | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setting up $VENV ..." >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -c "$REPO_ROOT/scripts/requirements/gate.in" -c "$REPO_ROOT/scripts/requirements/deploy.in" \
    -c "$REPO_ROOT/scripts/requirements/train.in" -c "$REPO_ROOT/scripts/requirements/champion.in" \
    -c "$REPO_ROOT/example-project/requirements.txt" \
    -e "${REPO_ROOT}[dev]"
  echo "$want" > "$stamp"
fi

# Debian tools the tests use for real: shellcheck (actionlint), and the container testbed
# (docker.io engine, docker-registry, debootstrap for the base image, htpasswd, skopeo).
missing=""
for pair in shellcheck:shellcheck dockerd:docker.io docker-registry:docker-registry \
            debootstrap:debootstrap htpasswd:apache2-utils skopeo:skopeo chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages:$missing ..." >&2
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "warning: missing Debian packages:$missing; install them for the full test suite" >&2
  fi
fi

# The npm mermaid package for the report tests (tests/support/browser.py), outside the tree.
MERMAID_VERSION=11.17.2
node_dir="${MLOPS_NODE_DIR:-$HOME/.cache/mlops-actions/node}"
if [ "$(cat "$node_dir/.mermaid-version" 2>/dev/null)" != "$MERMAID_VERSION" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "installing mermaid@$MERMAID_VERSION into $node_dir ..." >&2
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm install --silent --no-audit --no-fund --no-save \
      "mermaid@$MERMAID_VERSION" >/dev/null) && echo "$MERMAID_VERSION" > "$node_dir/.mermaid-version"
  else
    echo "warning: npm is missing; install nodejs and npm for the report tests (mermaid)" >&2
  fi
fi
)
# Not `_mlops_setup || ...`: that would switch off errexit inside it.
_mlops_setup
_mlops_status=$?
unset -f _mlops_setup
if [ "$_mlops_status" = 0 ]; then
  _mlops_venv_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin"
  export PATH="$_mlops_venv_bin:$PATH"
  unset _mlops_venv_bin
fi
[ "$_mlops_status" = 0 ]  # the status `source` returns
