#!/usr/bin/env bash
# Create, or reuse, an isolated virtualenv holding the hash-locked run-time dependencies of one
# action (scripts/requirements/<name>.txt, installed with --require-hashes), so nothing is
# installed into the user's Python and no package can be swapped on the index.
#
#   bash scripts/setup-helper.sh gate
#
# Writes `python=<venv python>` and `seconds=<setup time>` to $GITHUB_OUTPUT (or prints them).
# Where the venv lives:
# - GitHub-hosted runners: the tool cache, fresh for every job anyway;
# - self-hosted runners: the job's RUNNER_TEMP, built per job, because another job running as
#   the same OS user could change a shared venv (a .pth file runs at every Python start)
#   before the next job that holds a deploy token uses it. MLOPS_ACTIONS_SHARED_VENV=true
#   shares it through the tool cache instead, for runners that run only trusted code.
# A shared venv, keyed by the lock, the Python version and the platform, is reused only when
# its marker holds the sha256 of the lock and the digest of every file and link in the venv as
# it was built, checked before anything in it runs. That catches a changed or half-deleted
# venv; it is no security boundary against a job that can also rewrite the marker.
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
if [ "${RUNNER_ENVIRONMENT:-}" = "self-hosted" ] && [ "${MLOPS_ACTIONS_SHARED_VENV:-false}" != "true" ] \
  && [ -n "${RUNNER_TEMP:-}" ]; then
  cache_root="$RUNNER_TEMP/mlops-actions"  # per job: the runner empties RUNNER_TEMP after it
else
  cache_root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/mlops-actions"
fi
venv="$cache_root/venv-$name-$key"
started="$("$python" -c 'import time; print(time.time())')"

# sha256 over every folder, file (bytecode included) and link under a venv, the marker left
# out; links are hashed as links, never followed. Run by the base Python, never the venv's.
tree_digest() {
  "$python" -I -S - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
digest = hashlib.sha256()
for folder, dirs, files in os.walk(root):
    dirs.sort()
    files.sort()
    for name in dirs + files:
        path = os.path.join(folder, name)
        relative = os.path.relpath(path, root)
        if relative == ".complete":
            continue
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        if os.path.islink(path):
            digest.update(b"link " + os.readlink(path).encode("utf-8", "surrogateescape") + b"\0")
        elif os.path.isdir(path):
            digest.update(b"dir\0")
        else:
            with open(path, "rb") as f:
                digest.update(b"file " + hashlib.sha256(f.read()).digest())
print(digest.hexdigest())
PY
}

how=""
stale=""  # a venv at the path that must not be used
[ -e "$venv" ] && stale="yes"
if [ "$(head -n1 "$venv/.complete" 2>/dev/null)" = "$lock_sha" ]; then
  recorded="$(sed -n 2p "$venv/.complete")"
  if [ -z "$recorded" ]; then
    echo "mlops-actions: $venv predates file digests; building a new one" >&2
  elif [ "$recorded" != "$(tree_digest "$venv")" ]; then
    echo "::warning title=mlops-actions setup::the cached helper environment $venv changed after it was built; building a new one"
  elif "$venv/bin/python" -I -S -c '' 2>/dev/null; then  # only now run anything of it
    how="reused"
    stale=""
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
  printf '%s\n%s\n' "$lock_sha" "$(tree_digest "$building")" > "$building/.complete"
  # Remove only the venv judged unusable above: one that appeared while this job built is
  # another job's, maybe in use; -T never moves into it, and that venv is as good as ours.
  [ -n "$stale" ] && rm -rf "$venv"
  mv -T "$building" "$venv" 2>/dev/null || rm -rf "$building"
  how="installed"
fi

seconds="$("$python" -c "import time; print(f'{time.time() - $started:.1f}')")"
echo "mlops-actions helper environment $how in ${seconds}s: $venv" >&2
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "python=$venv/bin/python"; echo "seconds=$seconds"; echo "how=$how"; } >> "$GITHUB_OUTPUT"
else
  echo "python=$venv/bin/python"
fi
