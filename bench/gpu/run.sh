#!/usr/bin/env bash
# On the GPU machine, in the repo root with .gpu-carry/ from bench/gpu/pack.sh:
#   bash bench/gpu/run.sh [suite options, e.g. --peak-tflops 67]
# Unpacks Node, node_modules, dist/, libvulkan1 and the image cache under /tmp/wgnn,
# points the Vulkan loader at the NVIDIA ICD when it is there, and runs the suite;
# results go to $OUT (the device tool's output folder) or runs/bench-gpu.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
c=.gpu-carry
w=/tmp/wgnn
mkdir -p "$w/bin" "$w/cache"
xz -dc "$c/node.xz" > "$w/bin/node" && chmod +x "$w/bin/node"
rm -rf node_modules && mkdir -p "$w/mods"
xz -dc "$c/modules.tar.xz" | tar -C "$w/mods" -xf -
ln -s "$w/mods/$(ls "$w/mods")" node_modules
rm -rf dist && xz -dc "$c/dist.tar.xz" | tar -xf -
[ -f "$c/skimage.tar.xz" ] && xz -dc "$c/skimage.tar.xz" | tar -C "$w/cache" -xf -
export WGNN_CACHE_DIR="$w/cache"
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  for f in "$c"/libvulkan1_*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
  ldconfig 2>/dev/null || true
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
export PATH="$w/bin:$PATH"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv || true
out=${OUT:-runs/bench-gpu}
mkdir -p "$out"
set -o pipefail
node dist/bench/gpu-main.js --out "$out" "$@" 2>&1 | tee "$out/suite.log"
