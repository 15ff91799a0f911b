#!/usr/bin/env bash
# Packs what `npm run bench:gpu` needs onto a linux-x64 GPU machine that has a
# Vulkan driver but no Node, no npm and no network: the Node binary, the runtime
# node_modules (Dawn's dawn.node for linux-x64 only; TF.js is left out), the built
# dist/, Debian's libvulkan1 and the natural-image cache of the UFLDL exercise.
# Output: .gpu-carry/ in the repo root (ignored by .gitignore, so it travels only when
# named in the device tool's `carry`), which bench/gpu/run.sh unpacks there. Run from the repo root after `npm run build`:
#   bash bench/gpu/pack.sh            # then carry .gpu-carry and run bench/gpu/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=.gpu-carry
rm -rf "$out" && mkdir -p "$out"
[ -f dist/bench/gpu-main.js ] || { echo "pack.sh: run 'npm run build' first" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || echo "pack.sh: warning: this machine is $(uname -m); the GPU machine needs x86-64 builds" >&2

# Node: the binary this machine runs (official linux-x64 builds need glibc ≥ 2.28).
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"

# Runtime modules; webgpu keeps only its linux-x64 dawn.node.
nm=$(readlink -f node_modules)
tar -C "$nm/.." -cf - --exclude='webgpu/dist/darwin-*' --exclude='webgpu/dist/win32-*' --exclude='webgpu/dist/linux-arm64' \
  "$(basename "$nm")/webgpu" "$(basename "$nm")/wgsl-preprocessor" "$(basename "$nm")/mnist" "$(basename "$nm")/pngjs" "$(basename "$nm")/jpeg-js" \
  | xz -T0 -6 > "$out/modules.tar.xz"
tar -cf - dist | xz -T0 -6 > "$out/dist.tar.xz"

# The Vulkan loader (the GPU machine may have only the NVIDIA ICD).
tmp=$(mktemp -d)
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$tmp/lists"
mkdir -p "$tmp/lists/partial"
if apt-get $o update >/dev/null 2>&1 && (cd "$out" && apt-get $o download libvulkan1 >/dev/null 2>&1); then :; else
  # Offline: the .deb apt kept, if any.
  cp /var/cache/apt/archives/libvulkan1_*_amd64.deb "$out/" 2>/dev/null || echo "pack.sh: warning: no libvulkan1 .deb (the GPU machine must have a Vulkan loader)" >&2
fi
rm -rf "$tmp"

# Natural images for the UFLDL exercise (fetched once by `wgnn data natural` here).
cache=${WGNN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/webgpu-nn}
if [ -d "$cache/skimage" ]; then tar -C "$cache" -cf - skimage | xz -T0 -6 > "$out/skimage.tar.xz"; else echo "pack.sh: no $cache/skimage: the UFLDL exercise will be skipped there" >&2; fi

du -sh "$out"/* "$out"
