# scripts/lib.sh - shared by scripts/start and scripts/test: install what is missing, build.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# install_deps GROUP...: apt-get installs the named groups of scripts/deps that are missing.
install_deps() {
    local pkgs="" missing=""
    for group in "$@"; do
        pkgs="$pkgs $(awk -v g="# $group" '$0==g{getline; print}' "$ROOT/scripts/deps")"
    done
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo ">>> installing:$missing"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
}

# build DIR [cmake args...]
build() {
    local dir=$1; shift
    cmake -S "$ROOT" -B "$ROOT/$dir" -DLOGFERRY_WERROR=ON "$@" >/dev/null
    cmake --build "$ROOT/$dir" -j"$(nproc)"
}
