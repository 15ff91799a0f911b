#!/usr/bin/env bash
# One-time set-up on a fresh machine (idempotent): install the npm packages,
# and, when Node finds no WebGPU adapter on Debian/Ubuntu, install Chromium (it
# ships the SwiftShader Vulkan driver and the headless browser the tests use)
# and the Vulkan loader; install Debian's python3-torch when no Python has torch
# (the PyTorch export's tests run it). Finally print the adapter that was found.
set -euo pipefail
cd "$(dirname "$0")/.."

# onnxruntime-node's install script would download CUDA provider libraries from
# outside the npm registry on Linux x64; the CPU runtime the tests use ships in
# the npm package itself.
export ONNXRUNTIME_NODE_INSTALL=skip

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm ci installs exactly the lockfile. Where the registry serves only this
  # platform's builds of optional packages (rollup's per-platform binaries), npm
  # writes a lockfile without the others and `npm ci` then refuses it as out of
  # sync: fall back to `npm install`, which keeps every version the lockfile pins.
  if ! npm ci --no-audit --no-fund; then
    echo "setup: npm ci refused the lockfile; installing the locked versions with npm install" >&2
    npm install --no-audit --no-fund --no-save
  fi
else
  npm run --silent build
fi

probe() { node scripts/probe-adapter.mjs "$@"; }

need_browser=0
command -v chromium >/dev/null 2>&1 || [ -x "${CHROMIUM_PATH:-/nonexistent}" ] || need_browser=1
if ! probe --quiet || [ "$need_browser" = 1 ]; then
  if [ -f /etc/debian_version ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "setup: no WebGPU adapter (or no Chromium) and not root: run 'sudo apt-get install -y chromium libvulkan1' yourself" >&2
        exit 1
      fi
    fi
    echo "setup: installing chromium (SwiftShader Vulkan driver, headless browser) and libvulkan1 with apt-get…"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium libvulkan1 >/dev/null
  else
    echo "setup: no WebGPU adapter found and this is not Debian/Ubuntu; install a Vulkan driver (or Chromium's SwiftShader) yourself" >&2
  fi
fi

# The PyTorch export's tests (test/export-pytorch.test.ts) need a Python with
# torch: Debian's python3-torch, without its recommends (about 650 MB).
has_torch() {
  for py in "${WGNN_PYTHON:-}" /usr/bin/python3 python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 && "$py" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' >/dev/null 2>&1 && return 0
  done
  return 1
}
if ! has_torch; then
  if [ -f /etc/debian_version ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "setup: no Python with torch and not root: run 'sudo apt-get install -y --no-install-recommends python3-torch' yourself" >&2
        exit 1
      fi
    fi
    echo "setup: installing python3-torch with apt-get (for the PyTorch export tests)…"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
  else
    echo "setup: no Python with torch found and this is not Debian/Ubuntu; install torch yourself (or set WGNN_PYTHON)" >&2
  fi
fi

probe
