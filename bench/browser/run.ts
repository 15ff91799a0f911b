// `npm run bench:browser`: the benchmark suite of `wgnn bench` in headless Chromium
// (bench-page.ts builds, serves and runs the page; this is its command line).
//
//   npm run bench:browser -- [gemm] [step] [--quick] [--sizes 128,256] [--reps N] [--warmup N]
//       [--variant NAME] [--layers a,b,c] [--batch N] [--steps N] [--tfjs-steps N] [--cpu-steps N]
//       [--rounds N] [--no-tfjs] [--no-wasm] [--no-cpu] [--json] [--append] [--timeout SECONDS] [--keep DIR]
//
// Without benchmark names both run. --quick: GEMM 128³ and 256³ with the vec4-16x16 variant only,
// and a short step benchmark (GEMM autotuned as in `wgnn bench step`; 6 steps, TF.js webgpu 2,
// CPU 1, 2 rounds); explicit flags override it.
// Prints the Chromium version, the adapter, the tables and the JSON results (--json: only the
// JSON object). --append adds a dated section to bench/RESULTS.md (never done without it).
// Progress (the page's log) goes to stderr. Run with vite-node (argv: [node, vite-node, ...args]).
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { configFrom, int, parse, repo, runBrowserBench, USAGE, type BrowserBenchRun } from './bench-page.js';

const loadAtStart = loadavg();

function resultsSection(run: BrowserBenchRun, command: string): string {
  const fmt = (l: number[]): string => l.map((x) => x.toFixed(2)).join(', ');
  return [
    '',
    `## Headless Chromium: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`${command}\` (bench/browser/run.ts: the page bench/browser/main.ts built with Vite, served on 127.0.0.1, in headless ${run.chromium}).`,
    '',
    `**Browser:** ${run.chromium}; user agent \`${run.userAgent}\`.`,
    `**Adapter:** \`${run.adapter?.label ?? '?'}\`${run.adapter?.isSoftware ? ' (software)' : ''}.`,
    `**Machine:** ${cpus().length} × ${cpus()[0]?.model ?? '?'}; load average ${fmt(loadAtStart)} at the start, ${fmt(loadavg())} at the end.`,
    'In a page there is no process CPU clock: the "CPU ms/step" and "same by CPU time" columns are empty.',
    '',
    ...run.tables.flatMap((t) => [t, '']),
  ].join('\n');
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  const cfg = configFrom(args);
  const keep = args.flags.get('keep');
  const run = await runBrowserBench(cfg, { timeoutSeconds: int(args.flags, 'timeout'), outDir: keep ? resolve(keep) : undefined });
  if (!run.ok) {
    process.stderr.write(`[bench:browser] the page failed: ${run.error}\n`);
    return 1;
  }
  const json = { chromium: run.chromium, adapter: run.adapter, userAgent: run.userAgent, results: run.results };
  if (args.flags.has('json')) {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    process.stdout.write(`chromium: ${run.chromium}\nadapter: ${run.adapter?.label}${run.adapter?.isSoftware ? ' (software)' : ''}\n\n`);
    for (const t of run.tables) process.stdout.write(`${t}\n\n`);
    process.stdout.write(`${JSON.stringify(json, null, 1)}\n`);
  }
  if (args.flags.has('append')) {
    const command = `npm run bench:browser -- ${process.argv.slice(2).join(' ')}`.trim();
    const file = join(repo, 'bench/RESULTS.md');
    appendFileSync(file, resultsSection(run, command));
    process.stderr.write(`[bench:browser] appended a section to ${file}\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`[bench:browser] ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
