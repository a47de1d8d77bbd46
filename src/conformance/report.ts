/**
 * The kit's output: one line per check, then `N passed, N failed`. Lines carry check names, status
 * codes, header names and schema locations only; never keys, secrets or payload values.
 */
export interface CheckResult {
  name: string;
  ok: boolean;
  problems: string[];
  note?: string;
}

export class Report {
  readonly results: CheckResult[] = [];

  constructor(private readonly write: (line: string) => void) {}

  /** Records a check: passed when there are no problems. */
  check(name: string, problems: readonly string[], note?: string): boolean {
    const result: CheckResult = { name, ok: problems.length === 0, problems: [...problems], ...(note ? { note } : {}) };
    this.results.push(result);
    const suffix = result.ok ? (note ? ` (${note})` : '') : `: ${problems.join('; ')}`;
    this.write(`${result.ok ? 'PASS' : 'FAIL'}  ${name}${suffix}`);
    return result.ok;
  }

  /** A line that is not a check (what the kit is waiting for, what it found). */
  info(line: string): void {
    this.write(`      ${line}`);
  }

  get passed(): number {
    return this.results.filter((r) => r.ok).length;
  }

  get failed(): number {
    return this.results.length - this.passed;
  }

  summary(): string {
    return `${this.passed} passed, ${this.failed} failed`;
  }
}
