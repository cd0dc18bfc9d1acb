#!/usr/bin/env bash
# Installs a WebGPU adapter that runs on the CPU, for the GPU tests on machines without a GPU (CI):
# Mesa's lavapipe, a Vulkan driver, which Dawn (the npm package webgpu) accepts from Mesa 24 on.
# Older Mesa lacks shaderUniformArrayDynamicIndexing and Dawn then offers no adapter at all.
#
# Debian and Ubuntu only (apt-get, as root). Does nothing when Mesa >= 24's Vulkan drivers are
# there already, so it can run before every test run. On Debian 12 (bookworm, Mesa 22.3) the drivers
# come from bookworm-backports, on the machine's own mirror; elsewhere from the release itself.
# Exit 0 when lavapipe is there afterwards, 1 otherwise (with the reason on stderr).
# Afterwards set XDG_RUNTIME_DIR to a writable folder, or Mesa prints an error line per device.
set -euo pipefail

have_mesa() { # the installed Vulkan drivers' Mesa major version is 24 or later
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && [ "${v%%.*}" -ge 24 ] 2>/dev/null
}

if have_mesa; then exit 0; fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  echo "install-lavapipe: no apt-get here; install Mesa >= 24's Vulkan drivers (lavapipe) with this system's packages" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-lavapipe: run as root (apt-get installs mesa-vulkan-drivers >= 24)" >&2
  exit 1
fi

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
export DEBIAN_FRONTEND=noninteractive
target=()
if [ "$codename" = bookworm ]; then
  # Debian 12's own Mesa is 22.3: take the backport, from the mirror the machine already uses.
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && !/security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
      > /etc/apt/sources.list.d/nn-train-bookworm-backports.sources
  fi
  target=(-t bookworm-backports)
fi

apt-get update -qq || { sleep 5; apt-get update -qq; }
apt-get install -y -qq --no-install-recommends libvulkan1 >/dev/null
apt-get install -y -qq --no-install-recommends "${target[@]}" mesa-vulkan-drivers >/dev/null

if have_mesa; then
  dpkg-query -W -f='install-lavapipe: mesa-vulkan-drivers ${Version}\n' mesa-vulkan-drivers
  exit 0
fi
echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo missing) is older than 24; Dawn will find no adapter" >&2
exit 1
