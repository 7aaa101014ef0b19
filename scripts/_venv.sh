# Shared by scripts/serve and scripts/test (sourced, not run): find Python 3.11+,
# and create or refresh .venv only when pyproject.toml or the extras changed.

say() { printf '%s\n' "$*" >&2; }
die() { say "$(basename "$0"): $*"; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else return 1
    fi
}

apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    say "installing system packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >/dev/null &&
        as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"
}

# ensure_venv [EXTRAS]: .venv with the project installed (editable, with EXTRAS).
# Reinstalls only when pyproject.toml changed or the extras asked for are missing.
ensure_venv() {
    local extras="${1:-}" spec="." stamp=".venv/.taskspool-installed" sum have python
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x .venv/bin/python ]; then
        python="$(find_python)"
        say "creating .venv with $("$python" --version)"
        if ! "$python" -m venv .venv >/dev/null 2>&1; then
            rm -rf .venv
            apt_install python3-venv || die "cannot create a virtualenv; install python3-venv"
            "$python" -m venv .venv || die "cannot create a virtualenv in .venv"
        fi
    fi
    sum="$(cksum < pyproject.toml)"
    have="$(cat "$stamp" 2>/dev/null || true)"
    # The stamp reads "<extras>|<checksum of pyproject.toml>".
    if [ "${have#*|}" = "$sum" ] && { [ -z "$extras" ] || [ "${have%%|*}" = "$extras" ]; }; then
        return 0
    fi
    say "installing taskspool${extras:+ with the $extras extras} into .venv"
    .venv/bin/python -m pip install -qq -e "$spec" || die "pip install failed"
    printf '%s|%s\n' "$extras" "$sum" > "$stamp"
}
