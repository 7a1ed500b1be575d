# shellcheck shell=bash
# Shared by scripts/test and scripts/develop: find Python 3.13 and keep .venv
# in sync with the requirements files. Source it from the repository root.

set -euo pipefail

REQUIREMENTS=(requirements_test.txt requirements_bluetooth.txt requirements_dev.txt requirements_e2e.txt)
VENV="${VENV:-.venv}"

find_python() {
  local candidate
  local candidates=(/usr/bin/python3.13 /usr/local/bin/python3.13)
  # One on PATH too (actions/setup-python puts it there on GitHub).
  if candidate="$(command -v python3.13)"; then candidates+=("$candidate"); fi
  local root
  if root="$(pyenv root 2>/dev/null)"; then
    while IFS= read -r candidate; do candidates+=("$candidate"); done < <(
      ls -d "$root"/versions/3.13.*/bin/python3.13 2>/dev/null | sort -V -r
    )
  fi
  for candidate in "${candidates[@]}"; do
    if [[ -x "$candidate" ]] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.13 not found (tried /usr/bin/python3.13, PATH and pyenv's 3.13.x)." >&2
  echo "Install it (e.g. 'pyenv install 3.13') and run this again." >&2
  return 1
}

requirements_hash() {
  cat "${REQUIREMENTS[@]}" | sha256sum | cut -d' ' -f1
}

ensure_venv() {
  local stamp="$VENV/.requirements-hash"
  local wanted
  wanted="$(requirements_hash)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return 0
  fi
  local python
  python="$(find_python)"
  echo "==> Setting up $VENV with $("$python" --version) (first run takes about 5 minutes)"
  [[ -d "$VENV" ]] || "$python" -m venv "$VENV"
  local pip=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
  # Home Assistant 2026.2 declares Python >= 3.13.2; it runs on 3.13.0 too.
  if ! "$VENV/bin/python" -c 'import sys; assert sys.version_info >= (3, 13, 2)' 2>/dev/null; then
    pip+=(--ignore-requires-python)
  fi
  "${pip[@]}" -r requirements_test.txt
  local constraints
  constraints="$("$VENV/bin/python" -c 'import homeassistant, os; print(os.path.join(os.path.dirname(homeassistant.__file__), "package_constraints.txt"))')"
  "${pip[@]}" -c "$constraints" -r requirements_bluetooth.txt -r requirements_dev.txt -r requirements_e2e.txt
  echo "$wanted" > "$stamp"
}

# The browser test drives Debian's chromium through playwright (a browser that
# playwright downloads for itself cannot be fetched here). Install it when it
# is missing and we are root; otherwise the browser test says what is missing.
ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "==> Installing chromium for the browser test"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >/dev/null ||
      echo "warning: installing chromium failed; the browser test will fail" >&2
  else
    echo "warning: /usr/bin/chromium is missing (apt-get install chromium); the browser test needs it" >&2
  fi
}

# bleak 3.x without Home Assistant (HA 2026.3+ ships bleak 3): the protocol
# tests run here as well, and scripts/bench runs aiobmsble here.
BLEAK3_VENV="${BLEAK3_VENV:-.venv-bleak3}"

ensure_bleak3_venv() {
  local stamp="$BLEAK3_VENV/.requirements-hash"
  local wanted
  wanted="$(sha256sum requirements_bleak3.txt | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return 0
  fi
  local python
  python="$(find_python)"
  echo "==> Setting up $BLEAK3_VENV (bleak 3.x, no Home Assistant)"
  # "|| return" because a caller may test this function (errexit is then off).
  [[ -d "$BLEAK3_VENV" ]] || "$python" -m venv "$BLEAK3_VENV" || return
  "$BLEAK3_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r requirements_bleak3.txt || return
  echo "$wanted" > "$stamp"
}
