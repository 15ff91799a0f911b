#!/usr/bin/env bash
# One-time set-up on a fresh machine (idempotent): install the npm packages,
# and, when Node finds no WebGPU adapter on Debian/Ubuntu, install Chromium (it
# ships the SwiftShader Vulkan driver and the headless browser the tests use)
# and the Vulkan loader. Finally print the adapter that was found.
set -euo pipefail
cd "$(dirname "$0")/.."

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
probe
