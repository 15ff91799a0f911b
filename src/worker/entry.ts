// The training worker: load this module as a module Worker and talk to it with
// WorkerTrainer (client.ts). It takes the GPUDevice (navigator.gpu exists in
// dedicated workers) and serves the protocol of protocol.ts with TrainerHost.
//
//   const worker = new Worker(new URL('webgpu-nn/worker', import.meta.url), { type: 'module' });

import { engineLimits } from '../gpu/device.js';
import { TrainerHost } from './host.js';
import type { TrainerEvent, TrainerRequest } from './protocol.js';

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<TrainerRequest>) => void): void;
  navigator: Navigator & { gpu?: GPU };
}

/** Serves the trainer protocol on a dedicated worker's global scope. */
export function serveTrainer(scope: WorkerScope): TrainerHost {
  const post = (event: TrainerEvent, transfer: Transferable[] = []): void => scope.postMessage(event, transfer);
  /** Kept for the worker's lifetime: Chromium aborts mapAsync once the adapter (and its instance) is collected. */
  let adapterRef: GPUAdapter | null = null;
  const host = new TrainerHost({
    post,
    canvasFormat: () => scope.navigator.gpu!.getPreferredCanvasFormat(),
    device: async () => {
      const gpu = scope.navigator.gpu;
      const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
      if (!adapter) throw new Error('WebGPU is not available in this worker (navigator.gpu gives no adapter)');
      adapterRef = adapter;
      (globalThis as { __wgnnAdapter?: GPUAdapter }).__wgnnAdapter = adapterRef;
      const device = await adapter.requestDevice({ requiredLimits: engineLimits(adapter) });
      device.lost.then((info) => {
        if (info.reason !== 'destroyed') post({ type: 'error', message: `the WebGPU device was lost (${info.reason}): ${info.message}` });
      });
      return device;
    },
  });
  scope.addEventListener('message', (e) => host.handle(e.data));
  return host;
}

// Only in a worker (not when a bundler or a test imports the module on a page or in Node).
const WGS = (globalThis as { WorkerGlobalScope?: abstract new () => unknown }).WorkerGlobalScope;
if (WGS && globalThis instanceof WGS) serveTrainer(globalThis as unknown as WorkerScope);
