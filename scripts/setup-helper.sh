#!/usr/bin/env bash
# Create, or reuse, an isolated virtualenv holding the hash-locked run-time dependencies of one
# action (scripts/requirements/<name>.txt, installed with --require-hashes), so nothing is
# installed into the user's Python and no package can be swapped on the index.
#
#   bash scripts/setup-helper.sh gate
#
# Writes `python=<venv python>` and `seconds=<setup time>` to $GITHUB_OUTPUT (or prints them).
# The venv lives in the runner's tool cache, keyed by the requirements, the Python version and
# the platform: self-hosted runners reuse it across jobs; hosted runners start fresh. A venv is
# reused only when its marker holds the sha256 of the lock it was built from and the digest of
# every file the venv held when it was built (another job on a shared self-hosted runner could
# otherwise leave a .pth file or an edited module in it for the next job that holds a token).
set -euo pipefail

name="${1:?usage: setup-helper.sh <requirements name>}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/scripts/requirements/$name.txt"
python="${MLOPS_ACTIONS_PYTHON:-python3}"
[ -n "$python" ] || python=python3

fail() { echo "::error title=mlops-actions setup::$1"; exit 1; }

[ -f "$requirements" ] || fail "no requirements file $requirements"
command -v "$python" >/dev/null 2>&1 || fail "python '$python' not found; install Python 3.10+ (e.g. actions/setup-python) or set the python input"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || fail "python '$python' is $("$python" -V 2>&1); mlops-actions needs Python 3.10 or newer"

lock_sha="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$requirements")"
key="$("$python" - "$lock_sha" <<'PY'
import hashlib, platform, sys
digest = hashlib.sha256(sys.argv[1].encode())
digest.update(f"{sys.version_info[:2]}{platform.system()}{platform.machine()}".encode())
print(digest.hexdigest()[:16])
PY
)"
cache_root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/mlops-actions"
venv="$cache_root/venv-$name-$key"
started="$("$python" -c 'import time; print(time.time())')"

# sha256 over every path and file (bytecode included) under a venv, the marker left out.
tree_digest() {
  "$python" - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
digest = hashlib.sha256()
for folder, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(folder, name)
        relative = os.path.relpath(path, root)
        if relative == ".complete":
            continue
        digest.update(relative.encode() + b"\0")
        if os.path.islink(path):
            digest.update(b"->" + os.readlink(path).encode() + b"\0")
        else:
            with open(path, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
print(digest.hexdigest())
PY
}

how=""
if [ "$(head -n1 "$venv/.complete" 2>/dev/null)" = "$lock_sha" ] && "$venv/bin/python" -c '' 2>/dev/null; then
  recorded="$(sed -n 2p "$venv/.complete")"
  if [ -z "$recorded" ]; then
    echo "mlops-actions: $venv predates file digests; building a new one" >&2
  elif [ "$recorded" = "$(tree_digest "$venv")" ]; then
    how="reused"
  else
    echo "::warning title=mlops-actions setup::the cached helper environment $venv changed after it was built; building a new one"
  fi
fi
if [ -z "$how" ]; then
  mkdir -p "$cache_root"
  # Build beside the final path and rename, so a concurrent or interrupted job never sees a
  # half-installed venv.
  building="$(mktemp -d "$cache_root/.building-$name-XXXXXX")"
  if command -v uv >/dev/null 2>&1; then
    uv venv --quiet --python "$python" "$building"
    uv pip install --quiet --python "$building/bin/python" --compile-bytecode --require-hashes \
      -r "$requirements"
  else
    "$python" -m venv "$building"
    "$building/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --require-hashes -r "$requirements"
  fi
  # Only bin/python is used (never the console scripts, whose shebangs name the old path).
  rm -rf "$venv"
  mv "$building" "$venv"
  printf '%s\n%s\n' "$lock_sha" "$(tree_digest "$venv")" > "$venv/.complete"
  how="installed"
fi

seconds="$("$python" -c "import time; print(f'{time.time() - $started:.1f}')")"
echo "mlops-actions helper environment $how in ${seconds}s: $venv" >&2
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "python=$venv/bin/python"; echo "seconds=$seconds"; echo "how=$how"; } >> "$GITHUB_OUTPUT"
else
  echo "python=$venv/bin/python"
fi
