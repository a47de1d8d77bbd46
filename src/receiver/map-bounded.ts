/**
 * `work` over the inputs, at most `limit` at a time, results in input order. With `stopAt` (epoch
 * ms), no input is started once it has passed: its result stays a hole, for the caller to count.
 */
export const mapBounded = async <T, R>(
  inputs: readonly T[],
  limit: number,
  work: (input: T) => Promise<R>,
  stopAt: number = Number.POSITIVE_INFINITY,
): Promise<R[]> => {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length && Date.now() < stopAt) {
      const at = next++;
      results[at] = await work(inputs[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, inputs.length)) }, worker));
  return results;
};
