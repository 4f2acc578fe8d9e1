#!/usr/bin/env bash
# Creates or refreshes the two Python environments, skipping work already done:
# each venv keeps the hash of pyproject.toml it was built from.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each venv is rebuilt only when what it installs changed: .venv follows the whole
# pyproject.toml, .venv-rasa only its `rasa = [...]` extra.
app_hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
rasa_hash=$(sed -n '/^rasa = \[/,/^\]/p' pyproject.toml | sha256sum | cut -d' ' -f1)

find_python() {  # $1 = minor version, e.g. 3.10: pyenv's build first, then PATH
    local v=$1 p ver
    if command -v pyenv >/dev/null 2>&1; then
        ver=$(pyenv versions --bare 2>/dev/null | grep -E "^${v//./\\.}\.[0-9]+$" | tail -n1 || true)
        p="$(pyenv root)/versions/$ver/bin/python$v"
        [ -n "$ver" ] && [ -x "$p" ] && { echo "$p"; return 0; }
    fi
    p=$(command -v "python$v" 2>/dev/null) && "$p" -c "" 2>/dev/null && { echo "$p"; return 0; }
    return 1
}

fresh() {  # $1 = venv dir, $2 = the hash it must have been built from
    [ -f "$1/.pyproject.sha256" ] && [ "$(cat "$1/.pyproject.sha256")" = "$2" ]
}

if ! fresh .venv "$app_hash"; then
    py311=$(find_python 3.11) || { echo "需要 Python 3.11：请安装（例如 pyenv install 3.11.7）" >&2; exit 1; }
    echo "==> .venv (Python 3.11: $py311)"
    [ -x .venv/bin/python ] || "$py311" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    # The CPU wheel on local disk; a bare "torch" would pull a multi-GB CUDA build.
    .venv/bin/pip install -q torch==2.13.0
    .venv/bin/pip install -q -e '.[app,dev]'
    echo "$app_hash" > .venv/.pyproject.sha256
fi

if ! fresh .venv-rasa "$rasa_hash"; then
    py310=$(find_python 3.10) || {
        echo "Rasa 3.6 需要 Python 3.10，本机没有找到。请安装：pyenv install 3.10.13（或系统包 python3.10 python3.10-venv）" >&2
        exit 1
    }
    echo "==> .venv-rasa (Python 3.10: $py310)"
    [ -x .venv-rasa/bin/python ] || "$py310" -m venv .venv-rasa
    .venv-rasa/bin/pip install -q --upgrade "pip<24.1" wheel
    .venv-rasa/bin/pip install -q -e '.[rasa]'
    echo "$rasa_hash" > .venv-rasa/.pyproject.sha256
fi
