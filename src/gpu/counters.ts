// The engine's own resource counters, process-wide: GPU buffers created by the
// engine's pools and not yet destroyed, compute pipelines held by its caches,
// and devices it created and has not destroyed. A disposed model leaves none of
// its own behind (test/gpu-counters.test.ts).

export interface EngineCounters {
  buffers: number;
  pipelines: number;
  devices: number;
}

const counters: EngineCounters = { buffers: 0, pipelines: 0, devices: 0 };

/** A snapshot of the counters. */
export function engineCounters(): EngineCounters {
  return { ...counters };
}

/** Adds `delta` to one counter (engine internals only). */
export function countEngine(what: keyof EngineCounters, delta: number): void {
  counters[what] += delta;
}
