/** A measurement could not be taken or came out wrong: the bench exits non-zero. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}

const sorted = (values: readonly number[]): number[] => {
  if (values.length === 0) throw new BenchError('no samples to summarise');
  if (values.some((value) => !Number.isFinite(value))) throw new BenchError('a sample is not a finite number');
  return [...values].sort((a, b) => a - b);
};

export const median = (values: readonly number[]): number => {
  const s = sorted(values);
  const middle = s.length >> 1;
  return s.length % 2 === 1 ? s[middle]! : (s[middle - 1]! + s[middle]!) / 2;
};

/** Linear-interpolated quantile, q in [0, 1]. */
export const quantile = (values: readonly number[], q: number): number => {
  const s = sorted(values);
  const position = (s.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return s[low]! + (s[high]! - s[low]!) * (position - low);
};

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** A plain-text table, columns padded to their widest cell; numbers are right-aligned. */
export const table = (headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string => {
  const cells = [headers, ...rows].map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly (string | number)[]) =>
    row
      .map((cell, column) => {
        const text = String(cell);
        const width = widths[column] ?? text.length;
        return typeof cell === 'number' ? text.padStart(width) : text.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
};

/** A ratio measured over several rounds: the median is the figure, min–max its spread. */
export interface RoundedRatio {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly number[];
}

export const ratioOfRounds = (perRound: readonly number[]): RoundedRatio => {
  const s = sorted(perRound);
  return { median: round(median(s)), min: round(s[0]!), max: round(s[s.length - 1]!), rounds: perRound.map((value) => round(value)) };
};

/** `1.23 (1.19–1.27, 7 rounds)`: a ratio as the tables print it. */
export const withSpread = (ratio: RoundedRatio): string => `${ratio.median} (${ratio.min}–${ratio.max}, ${ratio.rounds.length} rounds)`;
