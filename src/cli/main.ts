// The `wgnn` command dispatcher. `main` returns the exit status and writes only
// through `io`, so tests run commands in-process.

import { SpecError } from '../spec.js';
import { UsageError } from './args.js';
import { costCommand, costUsage } from './cost.js';
import { gradcheckCommand, gradcheckUsage } from './gradcheck.js';
import { trainCommand, trainUsage } from './train.js';
import { evalCommand, evalUsage } from './eval.js';
import { infoCommand, infoUsage } from './info.js';
import { dataCommand, dataUsage } from './data.js';
import { benchCommand, benchUsage } from './bench.js';
import { exportCommand, exportUsage } from './export.js';
import { importCommand, importUsage } from './import.js';
import { processIO, type CliIO } from './io.js';

interface Command {
  summary: string;
  usage: string;
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  train: { summary: 'train a network or sparse autoencoder (the main job without --config)', usage: trainUsage, run: trainCommand },
  eval: { summary: 'accuracy and confusion matrix of a trained classifier on a test set', usage: evalUsage, run: evalCommand },
  info: { summary: 'print the WebGPU adapter and its limits', usage: infoUsage, run: infoCommand },
  data: { summary: 'locate or install the data sets (Fashion-MNIST, natural images)', usage: dataUsage, run: dataCommand },
  bench: { summary: 'benchmark GEMM and a training step against TF.js', usage: benchUsage, run: benchCommand },
  gradcheck: { summary: 'check ∇J against central differences (cpu) or the CPU reference (webgpu)', usage: gradcheckUsage, run: gradcheckCommand },
  cost: { summary: 'evaluate J(θ; X, Y) and ∇J from files', usage: costUsage, run: costCommand },
  export: { summary: 'export a model as ONNX or as a PyTorch package (exact cost, torchrun DDP training)', usage: exportUsage, run: exportCommand },
  import: { summary: 'import a PyTorch state_dict (safetensors) as a model folder', usage: importUsage, run: importCommand },
};

export const usage = `Usage: wgnn <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run wgnn <command> --help for the options of a command.
`;

/** One line: the message with any line breaks folded. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(usage);
    return 1;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`wgnn: unknown command ${JSON.stringify(name)}; run wgnn --help for the list\n`);
    return 1;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    io.stderr(`wgnn: ${oneLine(err.message)}\n`);
    // Usage and spec errors are the user's input; anything else may be a bug.
    if (!(err instanceof UsageError || err instanceof SpecError) && process.env.WGNN_DEBUG) io.stderr(`${err.stack}\n`);
    return 1;
  }
}
