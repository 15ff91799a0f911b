#!/usr/bin/env bash
# On the GPU machine, in the repo root with .gpu-carry/ from bench/gpu/pack.sh:
#   bash bench/gpu/run.sh [suite options, e.g. --peak-tflops 67]
# Unpacks Node, node_modules, dist/, libvulkan1 and the image cache into /tmp/wgnn
# (an app folder with the package's examples/ and bench/peers/; the repo is left as it
# is), points the Vulkan loader at the NVIDIA ICD when it is there, and runs the suite;
# results go to $OUT (the device tool's output folder) or ./runs/bench-gpu.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
c="$root/.gpu-carry"
out=$(mkdir -p "${OUT:-runs/bench-gpu}" && cd "${OUT:-runs/bench-gpu}" && pwd)
w=/tmp/wgnn
app="$w/app"
rm -rf "$app" && mkdir -p "$w/bin" "$w/cache" "$app/bench"
xz -dc "$c/node.xz" > "$w/bin/node" && chmod +x "$w/bin/node"
xz -dc "$c/modules.tar.xz" | tar -C "$app" -xf -
xz -dc "$c/dist.tar.xz" | tar -C "$app" -xf -
cp -r package.json examples "$app/" && cp -r bench/peers bench/RESULTS.md "$app/bench/"
if [ -f "$c/skimage.tar.xz" ]; then xz -dc "$c/skimage.tar.xz" | tar -C "$w/cache" -xf -; fi
export WGNN_CACHE_DIR="$w/cache"
if ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  for f in "$c"/libvulkan1_*.deb; do if [ -f "$f" ]; then dpkg -x "$f" /; fi; done
  ldconfig 2>/dev/null || true
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; fi
export PATH="$w/bin:$PATH"
if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv || true; fi
cd "$app"
node dist/bench/gpu-main.js --out "$out" "$@" 2>&1 | tee "$out/suite.log"
