/**
 * Waits of the end-to-end tests: for a condition, never for a time. The tests run on shared
 * machines (two test runs side by side, CI), where "50 ms is enough" is sometimes false. A wait
 * ends as soon as its condition holds; its bound is only there so that a test that cannot pass
 * fails with a reason, so it is generous (it costs nothing when the condition comes), and when it
 * is passed the error says what was awaited and what state things were in (counts, never payloads).
 */

export interface WaitOptions {
  /** What is awaited, for the error: "the sandbox's deliveries to end". */
  what: string;
  /** The bound: one that holds on a busy machine. */
  timeoutMs: number;
  /** The state to report when the bound is passed: counts, not payloads. */
  state?: () => unknown;
}

/** Resolves once `condition()` holds (looked at every few milliseconds), or rejects at the bound. */
export async function waitUntil(condition: () => boolean, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) throw new Error(timedOut(options));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves as `promise` does, or rejects at the bound (the promise itself is left to end on its own). */
export async function within<T>(promise: Promise<T>, options: WaitOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(timedOut(options))), Math.max(0, options.timeoutMs));
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

function timedOut({ what, timeoutMs, state }: WaitOptions): string {
  return `waited ${timeoutMs} ms for ${what}, in vain${state ? `; state: ${JSON.stringify(state())}` : ''}`;
}
