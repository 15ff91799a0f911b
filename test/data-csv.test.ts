import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csv.js';

describe('parseCsv', () => {
  it('reads numbers row-major, with header, label column, CRLF, quotes and blank lines', () => {
    const text = 'a,b,label\r\n1,2.5,0\r\n\r\n"-3", 4e-1 ,2\r\n.5,+6,1\r\n';
    const r = parseCsv(text, { header: true, labelColumn: -1 });
    expect(r.X).toEqual({ rows: 3, cols: 2, data: Float64Array.from([1, 2.5, -3, 0.4, 0.5, 6]) });
    expect(Array.from(r.labels!)).toEqual([0, 2, 1]);
    expect(r.classes).toBe(3);
    expect(r.columns).toEqual(['a', 'b']);
    const plain = parseCsv('1;2\n3;4', { delimiter: ';' });
    expect(plain.X.rows).toBe(2);
    expect(plain.labels).toBeUndefined();
    const first = parseCsv('7,1,2\n3,3,4', { labelColumn: 0 });
    expect(Array.from(first.labels!)).toEqual([7, 3]);
    expect(Array.from(first.X.data)).toEqual([1, 2, 3, 4]);
  });

  it('names the line and column of a non-numeric cell', () => {
    expect(() => parseCsv('1,2,3\n4,x5,6\n', { name: 'train.csv' })).toThrow(/train\.csv: line 2, column 2: "x5" is not a finite number/);
    expect(() => parseCsv('1,2\n\n3,\n')).toThrow(/CSV: line 3, column 2: "" is not a finite number/);
    expect(() => parseCsv('1,1e999')).toThrow(/line 1, column 2: "1e999" is not a finite number/);
    expect(() => parseCsv('x,y\n1,2')).toThrow(/line 1, column 1: "x" is not a finite number \(if this line is a header, pass header: true\)/);
  });

  it('names the line of a ragged row and of a bad label', () => {
    expect(() => parseCsv('1,2,3\n4,5,6\n7,8\n')).toThrow(/line 3 has 2 columns, but line 1 has 3 \(ragged rows\)/);
    expect(() => parseCsv('h1,h2\n1,2,3', { header: true })).toThrow(/line 2 has 3 columns, but line 1 has 2/);
    expect(() => parseCsv('1,2\n3,2.5', { labelColumn: 1 })).toThrow(/line 2, column 2: label "2.5" is not an integer in 0 … 255/);
    expect(() => parseCsv('1,2\n3,-1', { labelColumn: 1 })).toThrow(/line 2, column 2: label "-1"/);
    expect(() => parseCsv('1,2', { labelColumn: 2 })).toThrow(/labelColumn 2 is outside the 2 columns of line 1/);
    expect(() => parseCsv('\n\n')).toThrow(/CSV: no data lines/);
  });
});
