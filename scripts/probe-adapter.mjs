// Prints the WebGPU adapter Node finds (exit 1 when none). --quiet prints nothing.
import { acquireDevice, adapterLabel } from '../dist/gpu/device.js';

const quiet = process.argv.includes('--quiet');
try {
  const ctx = await acquireDevice();
  if (!quiet) {
    console.log(`WebGPU adapter: ${adapterLabel(ctx.adapter)}${ctx.adapter.isSoftware ? ' (software)' : ''}`);
    console.log(`  maxStorageBufferBindingSize=${ctx.limits.maxStorageBufferBindingSize} maxBufferSize=${ctx.limits.maxBufferSize} maxComputeWorkgroupStorageSize=${ctx.limits.maxComputeWorkgroupStorageSize}`);
  }
  ctx.destroy();
  process.exit(0);
} catch (e) {
  if (!quiet) console.error(String(e.message ?? e));
  process.exit(1);
}
