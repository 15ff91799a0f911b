// Copies the PyTorch export's Python templates (src/export/python/*.py) to
// dist/export/python/, where dist/export/pytorch.js reads them.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src', 'export', 'python');
const to = join(root, 'dist', 'export', 'python');
mkdirSync(to, { recursive: true });
for (const f of readdirSync(from).filter((f) => f.endsWith('.py'))) copyFileSync(join(from, f), join(to, f));
