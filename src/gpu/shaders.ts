// Shader text → compute pipelines. Sources are the inlined shaders/*.wgsl;
// `${NAME}` placeholders and `#if ${NAME}` blocks are filled by
// wgsl-preprocessor from a table of template values. Pipelines are cached by
// their final source and entry point, so each variant compiles once per device.

import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { SHADER_SOURCES } from './shaders.gen.js';
import { GpuError } from './device.js';
import { countEngine } from './counters.js';

export type Defines = Record<string, number | boolean | string>;

/**
 * Renders the named shader files (concatenated in order, after the generated id
 * constants ACT_*, MAP_*, OP_*, NOISE_* of shaders/ids.json) with template values.
 */
export function renderShader(files: string[], defines: Defines): string {
  const joined = ['ids', ...files]
    .map((f) => {
      const src = SHADER_SOURCES[f];
      if (src === undefined) throw new Error(`unknown shader ${f}`);
      return src;
    })
    .join('\n');
  // Directives (`enable subgroups;`) must open the module, above the ids' constants.
  const directives = joined.match(/^enable [\w, ]+;[ \t]*$/gm) ?? [];
  const text = directives.length ? `${directives.join('\n')}\n${joined.replace(/^enable [\w, ]+;[ \t]*$/gm, '')}` : joined;
  const strings: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const m of text.matchAll(/\$\{(\w+)\}/g)) {
    const name = m[1]!;
    if (!(name in defines)) throw new Error(`shader ${files.join('+')} needs template value ${name}`);
    strings.push(text.slice(last, m.index));
    const v = defines[name]!;
    values.push(v);
    last = m.index! + m[0].length;
  }
  strings.push(text.slice(last));
  const raw = Object.assign([...strings], { raw: [...strings] }) as unknown as TemplateStringsArray;
  return wgsl(raw, ...values) as string;
}

function withLineNumbers(src: string): string {
  return src
    .split('\n')
    .map((line, i) => `${String(i + 1).padStart(4)}: ${line}`)
    .join('\n');
}

/** Compiles and caches compute pipelines for one device. */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  async get(files: string[], defines: Defines, entryPoint: string): Promise<GPUComputePipeline> {
    const code = renderShader(files, defines);
    const key = `${entryPoint}\n${code}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code, label: `${files.join('+')}:${entryPoint}` });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    let pipeline: GPUComputePipeline | null = null;
    let failure: string | null = null;
    if (errors.length === 0) {
      try {
        pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint } });
      } catch (e) {
        failure = (e as Error).message;
      }
    }
    const scoped = await device.popErrorScope();
    if (errors.length || failure || scoped || !pipeline) {
      const msgs = errors.map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n');
      throw new GpuError(
        `WGSL ${files.join('+')} (${entryPoint}) failed to compile:\n${msgs || failure || scoped?.message}\n--- source ---\n${withLineNumbers(code)}`,
      );
    }
    this.pipelines.set(key, pipeline);
    countEngine('pipelines', 1);
    return pipeline;
  }

  /** Drops every pipeline (the model that owned the cache is disposed). */
  clear(): void {
    countEngine('pipelines', -this.pipelines.size);
    this.pipelines.clear();
  }
}
