#!/usr/bin/env bash
# The first README command: installs what is missing, builds, and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
exec build/bin/wirewatch up --demo "$@"
