// A small command-line parser: `--name value`, `--name=value` and `--flag`.
// Values are read through typed getters that reject bad input with a
// UsageError naming the option and the value.

/** A bad command line: printed as one line, exit status 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Each option of a command either takes a value or is a flag. */
export type OptionKinds = Readonly<Record<string, 'value' | 'flag'>>;

export class Args {
  constructor(
    private readonly command: string,
    private readonly values: ReadonlyMap<string, string | true>,
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  flag(name: string): boolean {
    return this.values.get(name) === true;
  }

  string(name: string): string | undefined {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  requireString(name: string, example: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`${this.command} needs --${name} (e.g. --${name} ${example})`);
    return v;
  }

  /** A finite number. */
  number(name: string): number | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    const v = s.trim() === '' ? NaN : Number(s);
    if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(s)}`);
    return v;
  }

  /** An integer ≥ min. */
  int(name: string, min: number): number | undefined {
    const v = this.number(name);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${this.string(name)}`);
    return v;
  }

  /** A comma-separated list of integers ≥ min, e.g. 64,25,64. */
  intList(name: string, min: number): number[] | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    const parts = s.split(',');
    const list = parts.map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : NaN));
    if (list.some((v) => !Number.isInteger(v) || v < min)) {
      throw new UsageError(`--${name} must be a comma-separated list of integers ≥ ${min}, got ${JSON.stringify(s)}`);
    }
    return list;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) {
      throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(s)}`);
    }
    return s as T;
  }
}

/**
 * Parses argv (without the command name) against the command's options.
 * `--help`/`-h` is always accepted as a flag named 'help'. A repeated option
 * keeps its last value.
 */
export function parseArgs(command: string, argv: readonly string[], options: OptionKinds): Args {
  const values = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '-h' || token === '--help') {
      values.set('help', true);
      continue;
    }
    if (!token.startsWith('--') || token === '--') {
      throw new UsageError(`${command}: unexpected argument ${JSON.stringify(token)}`);
    }
    const eq = token.indexOf('=');
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const kind = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!kind) throw new UsageError(`${command}: unknown option --${name}`);
    if (kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      values.set(name, true);
    } else if (eq >= 0) {
      values.set(name, token.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, next); // may start with '-': --epsilon -1 is reported by the getter
      i++;
    }
  }
  return new Args(command, values);
}
