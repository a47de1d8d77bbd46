// zapier-platform-core's z.console writes to the global console, so the developers' log of one run
// can be read by watching console.log/warn/error while it runs.

export type Failure = Error & { doNotContextify?: boolean };

/** The error `run` fails with, and every line logged meanwhile; a run that succeeds is a test failure. */
export const failureAndLog = async (run: () => Promise<unknown>): Promise<{ error: Failure; log: string }> => {
  const logged: string[] = [];
  const spies = (['log', 'warn', 'error'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' '))),
  );
  try {
    const error = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof Error)) throw new Error('the run was expected to fail with an Error');
    return { error, log: logged.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
};
