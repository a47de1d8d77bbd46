/**
 * Every status the sandbox server can answer, per documented operation, and the ones any request may
 * get whatever its path. test/sandbox/statuses.test.ts ties this table to docs/openapi.yaml and to
 * the statuses written in src/sandbox/server.ts; test/e2e/server.test.ts drives the sandbox to each.
 */
export const SANDBOX_STATUSES: Record<string, readonly number[]> = {
  'GET /me': [200, 401],
  'GET /notifications': [200, 401],
  'POST /notifications': [200, 201, 400, 401, 403, 413, 415, 422],
  'DELETE /notifications/{id}': [204, 400, 401, 403, 404, 410],
  'GET /notifications/samples': [200, 400, 401],
  'GET /actions': [200, 401],
  'GET /labels': [200, 400, 401],
  'POST /sandbox/events': [202, 400, 401, 403, 409, 413, 415, 429],
  'GET /sandbox/stats': [200],
};

/** Whatever the path: malformed HTTP, unknown paths, wrong methods, long targets, server failures. */
export const ANY_REQUEST = [400, 404, 405, 408, 414, 431, 500] as const;

/** Statuses the end-to-end test does not drive, and why (each is covered elsewhere or cannot be). */
export const NOT_DRIVEN: Record<number, string> = {
  408: 'needs a request held for the 60 s request timeout; answerClientError is tested in test/sandbox/guards.test.ts',
  500: 'only a bug in the sandbox gives it',
};
