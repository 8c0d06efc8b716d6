#!/usr/bin/env bash
# Creates (or reuses) the Python 3.13 venv with the official MeshAgent packages
# pinned in requirements.txt, for the Python interop tests.
#
# The venv lives outside the clone so that it is cached between runs:
#   ${ROOMSTATE_PYTHON_VENV:-$HOME/.cache/roomstate/python-<hash of requirements.txt>}
# It is rebuilt when requirements.txt changes (the hash names the folder).
# Python 3.13 is found as $ROOMSTATE_PYTHON, then `python3.13` on the PATH, then
# pyenv's newest 3.13.x. Prints the venv's path on the last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
requirements="$here/requirements.txt"
hash="$(sha256sum "$requirements" | cut -c1-12)"
venv="${ROOMSTATE_PYTHON_VENV:-$HOME/.cache/roomstate/python-$hash}"

is_313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; }

find_python() {
  local candidates=()
  [ -n "${ROOMSTATE_PYTHON:-}" ] && candidates+=("$ROOMSTATE_PYTHON")
  command -v python3.13 >/dev/null 2>&1 && candidates+=("$(command -v python3.13)")
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.13.*/bin/python3)
  fi
  candidates+=("$HOME"/.pyenv/versions/3.13.*/bin/python3)
  for candidate in "${candidates[@]}"; do
    if [ -x "$candidate" ] && is_313 "$candidate"; then echo "$candidate"; return; fi
  done
  echo "setup:python: Python 3.13 not found (set ROOMSTATE_PYTHON, or install it: pyenv install 3.13)" >&2
  exit 3
}

if [ -x "$venv/bin/python" ] && [ -f "$venv/.complete" ]; then
  echo "$venv"
  exit 0
fi

python="$(find_python)"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
# pip's notes about configured package locations that this machine lacks are noise here.
pip_install() { "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) >&2; }
pip_install --upgrade pip
pip_install -r "$requirements"
touch "$venv/.complete"
echo "$venv"
