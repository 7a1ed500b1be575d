#!/usr/bin/env bash
# Make the newest-Home-Assistant chroot ready now (run.sh does the same on
# first use): build it if it is not cached, and install the project's
# requirements. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/newest_ha/lib.sh
prepare
