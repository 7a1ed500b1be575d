#!/usr/bin/env bash
# pytest on the newest Home Assistant (versions.sh), in the cached chroot, on
# this clone's files: the clone is bind-mounted at its own path inside. Builds
# the chroot on first use. Arguments go to pytest. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/newest_ha/lib.sh
prepare
run_child chroot "$ROOT" "${CHROOT_ENV[@]}" "${IN_CLONE[@]}" "$PROJECT" \
  "$VENV/bin/pytest" -p no:cacheprovider "$@"
