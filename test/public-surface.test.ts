// The public surface: src/index.ts names what it exports (no `export *`), and internals stay internal.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as lib from '../src/index.js';
import * as node from '../src/node.js';

describe('public surface', () => {
  it('exports fit, the model factory and the optimizers, and no internals', () => {
    for (const name of ['fit', 'createModel', 'optimize', 'lbfgs', 'adam', 'cpuNetworkObjective', 'GpuObjective', 'encodeModel']) expect(name in lib, name).toBe(true);
    for (const name of ['reportIteration', 'stateInteger', 'stateNumber', 'checkpointer', 'cubicMinimizer', 'gatherRows', 'checkData', 'restoreVector', 'cpuModelObjective']) {
      expect(name in lib, name).toBe(false);
    }
    expect('train' in lib).toBe(false); // Node only
    expect('train' in node && 'loadMnist' in node && 'benchStep' in node && 'fit' in node).toBe(true);
  });

  it('names every export (no export *) except the Node entry point re-exporting the browser one', () => {
    expect(readFileSync('src/index.ts', 'utf8')).not.toMatch(/export \*/);
    expect(readFileSync('src/node.ts', 'utf8').match(/export \*/g)).toEqual(['export *']);
  });
});
