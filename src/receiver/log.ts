/**
 * The receiver's log: one JSON object per line on standard error (CloudWatch on Lambda reads each
 * line as one event, and a metric filter counts `outcome` values). Callers pass ids, counts,
 * outcomes and reasons only: never a payload value, a secret or a signature.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface ReceiverLog {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const jsonLog = (write: (line: string) => void = (line) => void process.stderr.write(line)): ReceiverLog => {
  const at = (level: 'info' | 'warn' | 'error') => (message: string, fields: LogFields = {}) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return { info: at('info'), warn: at('warn'), error: at('error') };
};

/** A log that keeps its lines, for tests. */
export const memoryLog = (): ReceiverLog & { readonly lines: Array<Record<string, unknown>> } => {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, ...jsonLog((line) => void lines.push(JSON.parse(line) as Record<string, unknown>)) };
};
