// Numeric CSV → Matrix. Browser-safe.
//
// One example per line, comma-separated (or `delimiter`), optional header line,
// optional integer label column. Blank lines are skipped; CRLF is accepted; a cell
// may be wrapped in double quotes. Every error names the line and column (1-based).

import { SpecError } from '../spec.js';
import { type Matrix } from '../matrix.js';

export interface CsvOptions {
  /** The first non-blank line holds column names. Default false. */
  header?: boolean;
  /** 0-based column holding an integer class label in 0 … 255 (negative counts from the end: −1 = last). */
  labelColumn?: number;
  /** Default ','. */
  delimiter?: string;
  /** Name of the input in error messages. Default 'CSV'. */
  name?: string;
}

export interface CsvData {
  X: Matrix;
  labels?: Uint8Array;
  /** max label + 1, when there is a label column. */
  classes?: number;
  /** Header names of the feature columns, when header is true. */
  columns?: string[];
}

function splitLine(line: string, delim: string): string[] {
  return line.split(delim).map((c) => {
    const t = c.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseCsv(text: string, opts: CsvOptions = {}): CsvData {
  const name = opts.name ?? 'CSV';
  const delim = opts.delimiter ?? ',';
  if (delim.length === 0) throw new SpecError(`${name}: delimiter must not be empty`);
  const lines = text.split(/\r?\n/);
  let width = -1;
  let labelCol = -1;
  let columns: string[] | undefined;
  let widthLine = 0;
  const values: number[] = [];
  const labels: number[] = [];
  let headerPending = opts.header === true;
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li]!;
    if (raw.trim() === '') continue;
    const lineNo = li + 1;
    const cells = splitLine(li === 0 ? raw.replace(/^\uFEFF/, '') : raw, delim);
    if (width < 0) {
      width = cells.length;
      widthLine = lineNo;
      if (opts.labelColumn !== undefined) {
        const lc = opts.labelColumn;
        if (!Number.isInteger(lc) || lc >= width || lc < -width) {
          throw new SpecError(`${name}: labelColumn ${lc} is outside the ${width} columns of line ${lineNo}`);
        }
        labelCol = lc < 0 ? width + lc : lc;
      }
      if (labelCol >= 0 && width < 2) throw new SpecError(`${name}: line ${lineNo} has only the label column and no features`);
    } else if (cells.length !== width) {
      throw new SpecError(`${name}: line ${lineNo} has ${cells.length} columns, but line ${widthLine} has ${width} (ragged rows)`);
    }
    if (headerPending) {
      headerPending = false;
      columns = cells.filter((_, j) => j !== labelCol);
      continue;
    }
    for (let j = 0; j < cells.length; j++) {
      const cell = cells[j]!;
      const v = NUMBER.test(cell) ? Number(cell) : NaN;
      if (j === labelCol) {
        if (!(Number.isInteger(v) && v >= 0 && v <= 255)) {
          throw new SpecError(`${name}: line ${lineNo}, column ${j + 1}: label ${JSON.stringify(cell)} is not an integer in 0 … 255`);
        }
        labels.push(v);
      } else {
        if (!Number.isFinite(v)) {
          const hint = values.length === 0 && labels.length === 0 && !opts.header ? ' (if this line is a header, pass header: true)' : '';
          throw new SpecError(`${name}: line ${lineNo}, column ${j + 1}: ${JSON.stringify(cell)} is not a finite number${hint}`);
        }
        values.push(v);
      }
    }
  }
  if (width < 0) throw new SpecError(`${name}: no data lines`);
  const cols = labelCol >= 0 ? width - 1 : width;
  const rows = cols > 0 ? values.length / cols : labels.length;
  const out: CsvData = { X: { rows, cols, data: Float64Array.from(values) } };
  if (labelCol >= 0) {
    out.labels = Uint8Array.from(labels);
    out.classes = labels.reduce((a, b) => Math.max(a, b), -1) + 1;
  }
  if (columns) out.columns = columns;
  return out;
}
