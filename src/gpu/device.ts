// Getting a GPUDevice in the browser (navigator.gpu) and in Node (Dawn, through
// the `webgpu` package), or wrapping one the caller already owns.
import { countEngine } from './counters.js';

export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** The device was lost (driver reset, destroy(), out of memory…). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** A WebGPU validation or out-of-memory error raised by a call of ours. */
export class GpuError extends Error {
  override name = 'GpuError';
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters (SwiftShader, lavapipe, WARP…) that favour different kernels. */
  isSoftware: boolean;
}

export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  readonly limits: DeviceLimits;
  /** True when this library created the device (and so may destroy it). */
  readonly owned: boolean;
  /** Features the adapter offers (empty for a caller's device, whose adapter we never saw). */
  readonly adapterFeatures: readonly string[];
  /** Non-null once the device is lost. */
  lost: DeviceLostError | null;
  /** Throws DeviceLostError or the first uncaptured GpuError seen since the last call. */
  check(): void;
  /** Destroys the device if we created it; a caller's device is left alone. */
  destroy(): void;
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const INSTALL_HINT =
  'No WebGPU adapter found. In a browser, use one with WebGPU enabled (Chrome/Edge 113+). ' +
  'In Node on Debian/Ubuntu without a GPU, install the SwiftShader Vulkan driver that Chromium ships and the Vulkan loader: ' +
  '`sudo apt-get install -y chromium libvulkan1` (scripts/setup.sh does this).';

function describe(info: GPUAdapterInfo | undefined): AdapterDescription {
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const all = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const isSoftware = /swiftshader|lavapipe|llvmpipe|warp|software|cpu/.test(all);
  return { vendor, architecture, device, description, isSoftware };
}

function nodeEnv(): { env: Record<string, string | undefined>; platform: string } | null {
  const p = (globalThis as { process?: { env: Record<string, string | undefined>; platform: string; versions?: { node?: string } } }).process;
  return p?.versions?.node ? p : null;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    const fs = await import('node:fs');
    return fs.existsSync(path);
  } catch {
    return false;
  }
}

let nodeGpu: GPU | null = null;

/** navigator.gpu in a browser; Dawn's GPU object in Node (created once per process). */
async function nodeRequestAdapter(powerPreference?: GPUPowerPreference): Promise<GPUAdapter | null> {
  const moduleName = 'webgpu';
  let webgpu: { create(opts: string[]): GPU; globals: object };
  try {
    webgpu = (await import(/* @vite-ignore */ moduleName)) as typeof webgpu;
  } catch (e) {
    throw new WebGpuUnavailableError(`the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Run \`npm install webgpu\`.`);
  }
  // WebGPU's constants (GPUBufferUsage…) are globals in a browser; Dawn exports them.
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  if (nodeGpu) return nodeGpu.requestAdapter({ powerPreference });
  const proc = nodeEnv();
  const canUseSwiftShader = !!proc && proc.platform === 'linux' && !proc.env.VK_ICD_FILENAMES && (await fileExists(SWIFTSHADER_ICD));
  const useSwiftShader = (): void => {
    // The Vulkan loader reads VK_ICD_FILENAMES when Dawn creates its instance.
    proc!.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  };
  // No GPU device node at all: go straight to SwiftShader (probing the system's
  // Vulkan drivers first would only find a software rasterizer Dawn rejects).
  const gpuNodes = canUseSwiftShader && (await Promise.all(['/dev/dri', '/dev/nvidia0', '/dev/dxg'].map(fileExists))).some((x) => x);
  if (canUseSwiftShader && !gpuNodes) useSwiftShader();
  nodeGpu = webgpu.create([]);
  let adapter = await nodeGpu.requestAdapter({ powerPreference });
  if (!adapter && canUseSwiftShader && gpuNodes) {
    // A GPU device node but no adapter: fall back to SwiftShader, which Debian's chromium ships.
    useSwiftShader();
    nodeGpu = webgpu.create([]);
    adapter = await nodeGpu.requestAdapter({ powerPreference });
  }
  return adapter;
}

export interface AcquireOptions {
  /** Use this device (owned by the caller) instead of creating one. */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /**
   * Features to enable when the adapter offers them (default OPTIONAL_FEATURES);
   * the device's `features` tells which were granted.
   */
  optionalFeatures?: readonly GPUFeatureName[];
}

/** Enabled on devices the engine creates when offered: GPU timers (profiling) and subgroup operations (a GEMM variant). */
export const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['timestamp-query', 'subgroups', 'shader-f16'] as GPUFeatureName[];

/** A GpuContext over a new device (largest buffer limits the adapter allows) or over the caller's. */
/** One context per caller device, so its listeners are added once however many models share it. */
const callerDevices = new WeakMap<GPUDevice, GpuContext>();

export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  if (opts.device) {
    let ctx = callerDevices.get(opts.device);
    if (!ctx) {
      ctx = wrapDevice(opts.device, undefined, false);
      callerDevices.set(opts.device, ctx);
    }
    return ctx;
  }
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let adapter: GPUAdapter | null;
  if (nav?.gpu) {
    adapter = await nav.gpu.requestAdapter({ powerPreference: opts.powerPreference });
  } else if (nodeEnv()) {
    adapter = await nodeRequestAdapter(opts.powerPreference);
  } else {
    throw new WebGpuUnavailableError(INSTALL_HINT);
  }
  if (!adapter) throw new WebGpuUnavailableError(INSTALL_HINT);
  const requiredFeatures = (opts.optionalFeatures ?? OPTIONAL_FEATURES).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits: engineLimits(adapter), requiredFeatures });
  return wrapDevice(device, adapter.info, true, [...adapter.features].map(String).sort());
}

/**
 * The limits the engine asks of a device it creates: the adapter's largest
 * buffers and workgroups (the defaults cap a storage binding at 128 MiB). An
 * app creating its own device can pass these as `requiredLimits`.
 */
export function engineLimits(adapter: GPUAdapter): Record<string, number> {
  const lim = adapter.limits;
  return {
    maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
    maxBufferSize: lim.maxBufferSize,
    maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
    maxComputeInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: lim.maxComputeWorkgroupSizeX,
  };
}

function wrapDevice(device: GPUDevice, info: GPUAdapterInfo | undefined, owned: boolean, adapterFeatures: readonly string[] = []): GpuContext {
  const l = device.limits;
  let pending: GpuError | null = null;
  const ctx: GpuContext = {
    device,
    adapter: describe(info ?? (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo),
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
    owned,
    adapterFeatures,
    lost: null,
    check() {
      if (ctx.lost) throw ctx.lost;
      if (pending) {
        const e = pending;
        pending = null;
        throw e;
      }
    },
    destroy() {
      if (!owned || destroyed) return;
      destroyed = true;
      if (onError) device.removeEventListener('uncapturederror', onError);
      device.destroy();
      countEngine('devices', -1);
    },
  };
  let destroyed = false;
  let onError: ((ev: Event) => void) | null = null;
  if (owned) countEngine('devices', 1);
  device.lost.then((info) => {
    // A destroy() we asked for is not an error worth reporting later.
    ctx.lost = new DeviceLostError(info.reason ?? 'unknown', `WebGPU device lost (${info.reason}): ${info.message}`);
  });
  // On a device the engine created, any uncaptured error is the engine's: report
  // it at the next check(). A caller's device also carries the app's own work,
  // whose errors are the app's to handle (its own 'uncapturederror' listener).
  if (owned) {
    onError = (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      pending ??= new GpuError(`WebGPU error: ${err.message}`);
    };
    device.addEventListener('uncapturederror', onError);
  }
  return ctx;
}

/** Adapter as one line, for benchmarks and logs. */
export function adapterLabel(a: AdapterDescription): string {
  return [a.vendor, a.architecture, a.device, a.description].filter((s) => s).join(' / ') || 'unknown adapter';
}
