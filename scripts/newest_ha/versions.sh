# shellcheck shell=bash disable=SC2034  # read by the scripts that source it
# The newest Home Assistant the whole test suite runs on (scripts/newest_ha).
# Bumping is an edit here only: the chroot is cached under a key made from these
# versions, so a change builds a new one on the next run.

# The newest pytest-homeassistant-custom-component release, and the Home
# Assistant version it pins (pip refuses the pair if they disagree).
PHCC_VERSION=0.13.375
HA_VERSION=2026.10.4
# Debian suite that ships the Python this Home Assistant needs (3.14).
DEBIAN_SUITE=forky
PYTHON=python3.14
