#!/usr/bin/env bash
# Make sure the browser tests have what they need: Debian's Chromium at
# /usr/bin/chromium (or $CHROMIUM) and a font that covers Chinese, so that
# screenshots show characters rather than boxes. Installs the missing Debian
# packages with apt-get when running as root; otherwise says what is missing and
# leaves the decision to the tests (they skip, or fail under CI=true).
# Quiet when nothing is to be done; safe to run any number of times.
set -euo pipefail

chromium="${CHROMIUM:-/usr/bin/chromium}"
packages=()
[ -x "$chromium" ] || packages+=(chromium)
if command -v fc-list >/dev/null 2>&1; then
    [ -n "$(fc-list :lang=zh family 2>/dev/null)" ] || packages+=(fonts-wqy-microhei)
else
    packages+=(fontconfig fonts-wqy-microhei)
fi
[ "${#packages[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: missing ${packages[*]} and cannot install them (needs root and apt-get)" >&2
    exit 0
fi

echo "ensure_chromium: installing ${packages[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
if [ ! -x "$chromium" ]; then
    echo "ensure_chromium: $chromium still missing after installing chromium" >&2
    exit 1
fi
