// Regenerates src/gpu/shaders.gen.ts from shaders/*.wgsl before any test runs.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/embed-shaders.mjs'], { stdio: 'inherit' });
}
