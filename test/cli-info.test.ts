// `wgnn info`: the adapter, the optional features the engine uses (as granted),
// the GEMM variants this device runs and the limits; --json carries the same.
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { acquireDevice } from '../src/gpu/device.js';
import { availableGemmVariants } from '../src/gpu/kernels.js';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { stdout: (t) => void (out += t), stderr: (t) => void (out += t) });
  return { code, out };
}

describe('wgnn info', () => {
  it('prints the adapter, the features the engine uses, the GEMM variants and the limits', async () => {
    const ctx = await acquireDevice();
    const enabled = [...ctx.device.features].map(String);
    const variants = availableGemmVariants(ctx.device);
    ctx.destroy();
    const { code, out } = await run(['info']);
    expect(code).toBe(0);
    expect(out).toMatch(/^adapter: .+/);
    for (const f of ['timestamp-query', 'subgroups', 'shader-f16']) expect(out).toContain(`${f} ${enabled.includes(f) ? 'yes' : 'no'}`);
    expect(out).toContain(`GEMM variants: ${variants.join(', ')}`);
    expect(out).toMatch(/maxStorageBufferBindingSize = \d+/);
    const json = JSON.parse((await run(['info', '--json'])).out) as { features: { adapter: string[]; enabled: string[] }; gemmVariants: string[]; limits: Record<string, number> };
    expect(json.features.enabled.sort()).toEqual(enabled.sort());
    expect(json.features.adapter).toEqual(expect.arrayContaining(json.features.enabled.filter((f) => f !== 'core-features-and-limits')));
    expect(json.gemmVariants).toEqual(variants);
    expect(json.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
  });
});
