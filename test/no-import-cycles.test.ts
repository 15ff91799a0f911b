// No import cycles among src/ files: every relative import (static, `import type`,
// `export … from` and dynamic `import('…')`) is an edge; a depth-first search
// over that graph must find no back edge.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The src/ files `file` imports (relative specifiers only; `.js` resolved to `.ts`). */
export function importsOf(file: string, text: string): string[] {
  const specs = new Set<string>();
  const patterns = [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.add(m[1]!);
  const out: string[] = [];
  for (const s of specs) {
    if (!s.startsWith('.')) continue;
    const target = resolve(dirname(file), s.replace(/\.js$/, '.ts'));
    out.push(target);
  }
  return out;
}

/** Every cycle found by a depth-first search, each as the list of files on it. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      const s = state.get(g);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g]);
      else if (s === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

describe('import graph of src/', () => {
  it('the checker finds a planted cycle and accepts a chain', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
    ]);
    expect(findCycles(g)).toEqual([['a', 'b', 'c', 'a']]);
    expect(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toEqual([]);
    const parsed = importsOf('/x/src/m.ts', "import type { T } from './t.js';\nexport { u } from '../u.js';\nconst g = await import('./gpu/g.js');\nimport 'node:fs';");
    expect(parsed.sort()).toEqual(['/x/src/gpu/g.ts', '/x/src/t.ts', '/x/u.ts']);
  });

  it('has no cycles', () => {
    const graph = new Map<string, string[]>();
    for (const f of sources(root)) graph.set(f, importsOf(f, readFileSync(f, 'utf8')));
    expect(graph.size).toBeGreaterThan(30);
    const cycles = findCycles(graph).map((c) => c.map((f) => relative(root, f)).join(' → '));
    expect(cycles).toEqual([]);
  });
});
