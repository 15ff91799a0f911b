// The vectors an optimizer allocates for one run: `alloc` hands out a new one,
// `freeAll` (in the run's `finally`) frees every one handed out.

import type { VectorOps } from './types.js';

export function scratchVectors<V>(ops: VectorOps<V>): { alloc(): V; freeAll(): void } {
  const owned: V[] = [];
  return {
    alloc(): V {
      const v = ops.alloc();
      owned.push(v);
      return v;
    },
    freeAll(): void {
      for (const v of owned.splice(0)) ops.free(v);
    },
  };
}
