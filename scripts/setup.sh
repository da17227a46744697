#!/usr/bin/env bash
# Installs every Debian package wirewatch needs to build, test and run.
# Idempotent: packages already present are skipped quickly.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libzmq3-dev libmsgpack-dev libhiredis-dev redis-server
  libhyperscan-dev libyaml-dev libjansson-dev libcurl4-openssl-dev libxml2-dev
  libutf8proc-dev libcmocka-dev libsystemd-dev libmicrohttpd-dev libxxhash-dev
  iso-codes clang libclang-rt-14-dev valgrind iproute2 tzdata unicode-cldr-core miscfiles libtext-names-perl wordnet-base
  chromium
)
# the browser test drives chromium with playwright-core (npm): Node.js and npm
# from Debian unless the machine already has them (another nodejs package,
# e.g. one that bundles npm, conflicts with Debian's npm)
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the package starts a system redis on 6379; wirewatch never relies on it
