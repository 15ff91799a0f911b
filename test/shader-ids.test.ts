// The numeric ids shared by TypeScript and WGSL (activations, sum maps, vector
// ops, corruption kinds) come from one source, shaders/ids.json. These tests
// fail if the TypeScript tables, the WGSL constants and the shaders' switch
// statements disagree — e.g. ACT_ID mapping softmax to 2 while a shader says 10.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, CORRUPTIONS } from '../src/spec.js';
import { ACT_ID, SUM_MAPS, VEC_OPS } from '../src/gpu/kernels.js';
import { CORRUPTION_KINDS } from '../src/noise.js';
import { SHADER_SOURCES } from '../src/gpu/shaders.gen.js';
import { renderShader } from '../src/gpu/shaders.js';

const source = JSON.parse(readFileSync(new URL('../shaders/ids.json', import.meta.url), 'utf8')) as Record<string, Record<string, number>>;

/** The generated WGSL constants: name → value. */
function wgslConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of SHADER_SOURCES.ids!.matchAll(/const (\w+): u32 = (\d+)u;/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

const upper = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toUpperCase();

const TABLES: [string, string, Readonly<Record<string, number>>][] = [
  ['activation', 'ACT', ACT_ID],
  ['sumMap', 'MAP', SUM_MAPS],
  ['vecOp', 'OP', VEC_OPS],
  ['corruption', 'NOISE', CORRUPTION_KINDS],
];

describe('id tables shared by TypeScript and WGSL', () => {
  it('every activation and corruption kind has an id, and ids within a table are distinct', () => {
    expect(Object.keys(ACT_ID).sort()).toEqual([...ACTIVATIONS].sort());
    expect(Object.keys(CORRUPTION_KINDS).sort()).toEqual([...CORRUPTIONS].sort());
    for (const [table] of TABLES) {
      const ids = Object.values(source[table]!);
      expect(new Set(ids).size, table).toBe(ids.length);
    }
  });

  it('the TypeScript tables and the WGSL constants equal shaders/ids.json', () => {
    const consts = wgslConstants();
    for (const [table, prefix, ts] of TABLES) {
      for (const [name, id] of Object.entries(source[table]!)) {
        expect(ts[name], `${table}.${name} in TypeScript`).toBe(id);
        expect(consts.get(`${prefix}_${upper(name)}`), `${prefix}_${upper(name)} in WGSL`).toBe(id);
      }
    }
    // The one alias: 'product' is 'dot'.
    expect(SUM_MAPS.product).toBe(SUM_MAPS.dot);
    expect(Object.keys(SUM_MAPS).filter((k) => !(k in source.sumMap!))).toEqual(['product']);
  });

  it('the shaders switch on named id constants only, each one defined', () => {
    const consts = wgslConstants();
    const switches: [string, RegExp, string][] = [
      ['activation', /switch ACT \{([\s\S]*?)\n {2}\}/g, 'ACT_'],
      ['reduce', /switch \$\{MAP\}u \{([\s\S]*?)\n {2}\}/g, 'MAP_'],
      ['blas1', /switch \$\{OP\}u \{([\s\S]*?)\n {2}\}/g, 'OP_'],
      ['corrupt', /switch \$\{KIND\}u \{([\s\S]*?)\n {2}\}/g, 'NOISE_'],
    ];
    for (const [file, re, prefix] of switches) {
      const bodies = [...SHADER_SOURCES[file]!.matchAll(re)].map((m) => m[1]!);
      expect(bodies.length, `${file}.wgsl has its id switch`).toBeGreaterThan(0);
      for (const body of bodies) {
        const labels = [...body.matchAll(/case ([^:]+):/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()));
        expect(labels.length, file).toBeGreaterThan(0);
        for (const l of labels) {
          expect(l.startsWith(prefix) && consts.has(l), `${file}.wgsl: case ${l}`).toBe(true);
        }
      }
    }
  });

  it('every rendered shader carries the constants (renderShader puts them in front)', () => {
    const text = renderShader(['activation'], { ACT: ACT_ID.relu, ALPHA: '0.0', HIDDEN_DELTA: false, NEEDS_Z: false, SPARSE: false, BIAS_SUM: false });
    expect(text).toContain(`const ACT_RELU: u32 = ${ACT_ID.relu}u;`);
    expect(text).toContain(`const ACT: u32 = ${ACT_ID.relu}u;`);
  });

  it('directives open the rendered module, above the constants (WGSL requires it)', () => {
    const defines = { ACT: ACT_ID.relu, ALPHA: '0.0', HIDDEN_DELTA: false, NEEDS_Z: false, SPARSE: false, BIAS_SUM: false, TRANS_A: false, TRANS_B: false, ACCUMULATE: false, ADDEND: false, BIAS: false, STORE_Z: false };
    const text = renderShader(['gemm_subgroup', 'gemm_common', 'gemm_epilogue', 'activation'], defines);
    expect(text.startsWith('enable subgroups;\n')).toBe(true);
    expect(text.match(/^enable /gm)).toHaveLength(1);
    expect(text.indexOf('const ACT_RELU')).toBeGreaterThan(0);
  });
});
