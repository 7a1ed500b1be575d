#!/usr/bin/env bash
# Build the chroot of scripts/newest_ha into $1: a minimal Debian root of the
# suite in versions.sh (the host's Debian or Ubuntu lacks the Python that the
# newest Home Assistant needs), its Python, and a venv with Home Assistant and
# pytest-homeassistant-custom-component (lib.sh adds the project's requirements).
# Called by lib.sh's ensure_root under the cache lock; needs root and network.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/newest_ha/lib.sh
ROOT="$1"
mkdir -p "$CACHE/debs"
trap 'unmount_all "$ROOT"' EXIT
trap 'exit 143' TERM INT HUP
step() { echo "==> [newest HA] $* ($SECONDS s)"; }

command -v debootstrap >/dev/null || {
  step "Installing debootstrap on the host"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
}
# Debian's archive keys; Ubuntu's debootstrap does not bring them.
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f "$KEYRING" ]] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debian-archive-keyring >/dev/null

step "debootstrap $DEBIAN_SUITE"
# The sid script serves testing too, and exists in older debootstraps that do
# not know the suite's name yet. The .deb cache outlives the chroot.
debootstrap --variant=minbase --keyring="$KEYRING" --cache-dir="$CACHE/debs" \
  "$DEBIAN_SUITE" "$ROOT" http://deb.debian.org/debian /usr/share/debootstrap/scripts/sid >/dev/null

# The host's name resolution, apt settings and extra CA certificates (a proxy
# that inspects TLS has one), so apt and pip inside reach what the host reaches.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp /etc/apt/apt.conf.d/* "$ROOT/etc/apt/apt.conf.d/" 2>/dev/null || true
mkdir -p "$ROOT/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
mount_system "$ROOT"

step "apt-get install $PYTHON chromium g++"
# chromium for the browser test (playwright cannot download its own here);
# g++ and the headers for requirements without wheels for this Python yet.
in_chroot sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends ca-certificates $PYTHON $PYTHON-venv $PYTHON-dev g++ chromium" >/dev/null
in_chroot update-ca-certificates >/dev/null
in_chroot apt-get clean

step "venv: Home Assistant $HA_VERSION, pytest-homeassistant-custom-component $PHCC_VERSION"
in_chroot "$PYTHON" -m venv "$VENV"
PIP=(in_chroot "$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check)
"${PIP[@]}" "pytest-homeassistant-custom-component==$PHCC_VERSION" "homeassistant==$HA_VERSION"
in_chroot "$VENV/bin/python" -c 'import sys, homeassistant.const as c; print("==> [newest HA] Python", sys.version.split()[0], "Home Assistant", c.__version__)'
step "chroot ready"
