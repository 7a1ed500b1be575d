# shellcheck shell=bash
# Shared by the scripts in scripts/newest_ha: where the chroot with the newest
# Home Assistant lives, and how to lock, mount, enter and unmount it.
# Source it from the repository root; everything here needs root.

set -euo pipefail

NEWEST_HA=scripts/newest_ha
# shellcheck source=scripts/newest_ha/versions.sh
source "$NEWEST_HA/versions.sh"
PROJECT="$(pwd -P)"
# Outside the clone, so that every clone on this machine (CI makes a fresh one
# for each run) reuses the chroot.
CACHE="${LITHIUM_BMS_CACHE:-/var/cache/lithium-bms}/newest-ha"
# The pinned versions and the build steps name the chroot, so a bump builds a
# new one. (The project's own requirements are synced on every run instead.)
KEY="$({ echo "$DEBIAN_SUITE $PYTHON $HA_VERSION $PHCC_VERSION"; cat "$NEWEST_HA/build.sh"; } |
  sha256sum | cut -c1-16)"
ROOT="$CACHE/root-$KEY"
VENV=/opt/venv # inside the chroot

# One run at a time per cache: a second run waits here instead of unmounting
# what the first one uses. The lock is released when the holders end, also on
# kill -9; pytest holds it too, so after a kill -9 of run.sh the next run
# waits for that pytest to end, then unmounts what it left.
lock_cache() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock 9
}

# Mount points below $1, deepest first (/proc/self/mounts escapes spaces as \040).
mounts_under() {
  local target
  awk -v prefix="$1/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r |
    while IFS= read -r target; do printf '%b\n' "$target"; done
}

# Unmount everything below $1, also what a killed run left behind.
unmount_all() {
  local target
  # A slave mount passes no unmount back to the host's /dev (in case a killed
  # run stopped between its bind mount and making it a slave).
  if mountpoint -q "$1/dev"; then mount --make-rslave "$1/dev"; fi
  while IFS= read -r target; do
    umount "$target" 2>/dev/null || umount --lazy "$target"
  done < <(mounts_under "$1")
}

# The kernel file systems a program in the chroot needs.
mount_system() {
  mountpoint -q "$1/proc" || mount -t proc proc "$1/proc"
  mountpoint -q "$1/sys" || mount -t sysfs sysfs "$1/sys"
  if ! mountpoint -q "$1/dev"; then
    mount --rbind /dev "$1/dev"
    mount --make-rslave "$1/dev"
  fi
}

# Delete a chroot; refuses while anything is mounted in it (rm would follow a
# bind mount of the same file system into the project or /dev).
remove_root() {
  unmount_all "$1"
  if [[ -n "$(mounts_under "$1")" ]]; then
    echo "error: still mounted below $1; not removing it" >&2
    return 1
  fi
  rm -rf --one-file-system "$1"
}

# Build the chroot for $KEY unless it is complete; drop those of other keys.
ensure_root() {
  [[ -f "$ROOT/.complete" ]] && return 0
  local build="$CACHE/build-$KEY" old
  [[ -e "$build" ]] && remove_root "$build" # a killed build: start over
  echo "==> Building the chroot for Home Assistant $HA_VERSION ($PYTHON from Debian $DEBIAN_SUITE) in $ROOT"
  run_child "$NEWEST_HA/build.sh" "$build"
  touch "$build/.complete"
  mv "$build" "$ROOT"
  for old in "$CACHE"/root-* "$CACHE"/build-*; do
    [[ -e "$old" && "$old" != "$ROOT" ]] && remove_root "$old"
  done
  return 0
}

# A clean environment for commands in the chroot (CI decides whether the
# browser test fails or skips without chromium).
CHROOT_ENV=(/usr/bin/env -i HOME=/root LANG=C.UTF-8 "CI=${CI:-}"
  "PATH=$VENV/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt)
# Prefix a command with it to run it in the clone.
# shellcheck disable=SC2016  # expanded by that sh
IN_CLONE=(sh -c 'cd "$1" && shift && exec "$@"' -)

in_chroot() {
  chroot "$ROOT" "${CHROOT_ENV[@]}" "$@"
}

# Install the project's requirements (scripts/newest_ha/requirements.py) when
# they changed since the last run; the clone must be mounted.
sync_requirements() {
  local wanted
  wanted="$(in_chroot "${IN_CLONE[@]}" "$PROJECT" "$VENV/bin/python" "$NEWEST_HA/requirements.py")"
  [[ -f "$ROOT/.requirements" && "$(cat "$ROOT/.requirements")" == "$wanted" ]] && return 0
  echo "==> [newest HA] Installing the project's requirements"
  printf '%s\n' "$wanted" >"$ROOT/tmp/requirements.txt"
  in_chroot "$VENV/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
    -r /tmp/requirements.txt
  printf '%s\n' "$wanted" >"$ROOT/.requirements"
}

# Run a command as its own process group and wait for it; the group is what
# cleanup stops when this script is told to stop (a signal to this script
# alone would wait for the command to end first).
child=
run_child() {
  setsid "$@" &
  child=$!
  wait "$child"
  child=
}

# Stop the running command, then unmount everything (the EXIT trap of prepare).
cleanup() {
  if [[ -n "$child" ]] && kill -TERM -- "-$child" 2>/dev/null; then
    wait "$child" 2>/dev/null || true
  fi
  unmount_all "$ROOT"
}

# Make the chroot ready for this clone: build it on first use, mount the clone
# at its own path inside, and sync the requirements. Everything is unmounted
# when the calling script exits, whatever the reason.
prepare() {
  trap cleanup EXIT
  trap 'exit 143' TERM INT HUP
  lock_cache
  ensure_root
  unmount_all "$ROOT" # what a killed run left behind
  mount_system "$ROOT"
  mkdir -p "$ROOT$PROJECT"
  mount --bind "$PROJECT" "$ROOT$PROJECT"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  sync_requirements
}
