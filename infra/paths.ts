/**
 * Where the repository is, whether this runs as TypeScript (infra/*.ts under jest) or compiled
 * (dist/infra/*.js under `cdk synth`): the nearest folder above with the npm lock file. dist/ has a
 * copy of package.json but never of the lock file, so the search cannot stop there.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const LOCK_FILE = 'package-lock.json';

export const findRepoRoot = (from: string = __dirname): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, LOCK_FILE))) return dir;
    if (dirname(dir) === dir) throw new Error(`infra: no ${LOCK_FILE} in ${from} or any folder above it`);
  }
};

export const REPO_ROOT = findRepoRoot();
/** NodejsFunction bundles from the repository root with this lock file (it must not guess from cwd). */
export const LOCK_FILE_PATH = join(REPO_ROOT, LOCK_FILE);
export const DEFAULT_RECEIVER_ENTRY = join(REPO_ROOT, 'src/receiver/aws/receiver-lambda.ts');
export const DEFAULT_FORWARDER_ENTRY = join(REPO_ROOT, 'src/receiver/aws/forwarder-lambda.ts');
