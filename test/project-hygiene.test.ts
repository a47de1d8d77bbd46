import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

// Every file of the project, committed or about to be (untracked but not ignored), must make sense
// in any clone. So no absolute path of one machine (a home directory, a build machine's work
// directory): name a file beside the repository relative to the repository's root (`../shared/…`).
// And no words about where or when a change was asked for (a tracker entry by number or as "the
// entry's rules", a work log): say what the rule is instead.
//
// The words are assembled from pieces so that this file does not match its own rules.

const ROOT = join(__dirname, '..');

/** Written by npm, not by us. */
const SKIPPED_FILES = new Set(['package-lock.json']);
/** Not text. A file with a NUL byte near its start is skipped too, whatever its name. */
const BINARY_EXTENSIONS = new Set(
  ['.png', '.jpg', '.jpeg', '.gif', '.ico', '.webp', '.pdf', '.zip', '.gz', '.tgz', '.woff', '.woff2', '.ttf', '.db', '.sqlite'],
);

/** One word from its pieces, so that the word is not in this file. */
const word = (...pieces: string[]): string => pieces.join('');
const issueWord = word('is', 'sue');
const sessionWord = word('ses', 'sion');
const ticketWord = word('tic', 'ket');

interface Rule {
  /** What the rule finds, as the failure names it. */
  name: string;
  pattern: RegExp;
}

// A path counts when it starts a path: not preceded by a letter, digit, dot, tilde or dash, so
// `src/home/x`, `https://example.com/work/` and `<rootDir>/.tmp/` are not absolute paths. The Unix
// directories are case-sensitive; an API route such as `/v1/users/` is not a home directory.
const START = '(?<![\\w.~-])';
const MACHINE_DIRS = [word('wo', 'rk'), word('ro', 'ot'), word('Use', 'rs'), word('tm', 'p')].join('|');
const RULES: readonly Rule[] = [
  { name: 'absolute path of one machine', pattern: new RegExp(`${START}/(?:${MACHINE_DIRS})/`) },
  { name: 'absolute path of one machine', pattern: new RegExp(`${START}/${word('ho', 'me')}/[^/\\s]+/`) },
  { name: 'absolute path of one machine', pattern: new RegExp(`\\b[a-z]:[\\\\/]+${word('Use', 'rs')}[\\\\/]`, 'i') },
  // A numbered entry. The word alone is fine: zod calls its validation results so (`error.…s`,
  // `$ZodIssue`), and `…d` is another word.
  { name: `"${issueWord} N"`, pattern: new RegExp(`\\b${issueWord}s?\\s*#?\\s*\\d+`, 'i') },
  { name: `"the ${issueWord}"`, pattern: new RegExp(`\\b(?:this|the|that)\\s+${issueWord}(?:['\u2019]s)?\\b`, 'i') },
  { name: `"${issueWord} tracker"`, pattern: new RegExp(`\\b(?:${issueWord}|bug)\\s+trackers?\\b`, 'i') },
  { name: `"${ticketWord}"`, pattern: new RegExp(`\\b${ticketWord}s?\\b`, 'i') },
  { name: `"${word('pull', ' request')}"`, pattern: new RegExp(`\\bpull\\s+requests?\\b`, 'i') },
  { name: `"${sessionWord}"`, pattern: new RegExp(`\\b${sessionWord}s?\\b`, 'i') },
];

const git = (...args: string[]): string[] =>
  execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((path) => path.length > 0);

/** Committed files, and new files git would offer to commit; a file deleted from the tree is gone. */
const projectFiles = (): string[] =>
  [...new Set([...git('ls-files', '-z'), ...git('ls-files', '-z', '--others', '--exclude-standard')])]
    .filter((path) => !SKIPPED_FILES.has(path) && !BINARY_EXTENSIONS.has(extname(path).toLowerCase()))
    .filter((path) => existsSync(join(ROOT, path)) && statSync(join(ROOT, path)).isFile())
    .sort();

/** `file:line: rule: excerpt` for every line of `text` that breaks a rule. */
const hygieneProblems = (file: string, text: string): string[] => {
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    for (const rule of RULES) {
      const match = rule.pattern.exec(line);
      if (match === null) continue;
      const excerpt = line.slice(Math.max(0, match.index - 30), match.index + match[0].length + 30).trim();
      problems.push(`${file}:${index + 1}: ${rule.name}: ${excerpt}`);
    }
  });
  return problems;
};

describe('project hygiene', () => {
  const files = projectFiles();

  test('the file list comes from git and holds the project', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'package.json', 'test/project-hygiene.test.ts']));
  });

  test('no file names a directory of one machine or a tracker entry', () => {
    const problems: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(join(ROOT, file));
      if (bytes.subarray(0, 8000).includes(0)) continue;
      problems.push(...hygieneProblems(file, bytes.toString('utf8')));
    }
    expect(problems).toEqual([]);
  });

  // The rules themselves: what they catch, and what they leave alone.
  test.each([
    [`/${word('wo', 'rk')}/shared/reference/toolchain.md`],
    [`see (/${word('ho', 'me')}/alex/project/x.ts:1:2)`],
    [`/${word('ro', 'ot')}/.npmrc`],
    [`/${word('Use', 'rs')}/alex/project`],
    [`C:\\${word('Use', 'rs')}\\alex\\project`],
    [`file:///${word('wo', 'rk')}/main/test/x.ts`],
    [`"/${word('tm', 'p')}/out.json"`],
    ['(GitHub ' + issueWord + ' 11, point 5)'],
    ['the partner-copy change of ' + issueWord + ' #11'],
    ['evaluated against the ' + issueWord + "'s rules"],
    ['for this ' + issueWord + ' only'],
    ['opened a ' + ticketWord],
    ['in this ' + sessionWord],
  ])('catches %s', (line) => {
    expect(hygieneProblems('x.md', line)).toHaveLength(1);
  });

  test.each([
    ['../shared/reference/toolchain.md'],
    ['<rootDir>/.tmp/run/ and .tmp/e2e'],
    ['https://example.com/work/users/'],
    ['GET /v1/users/42'],
    ['src/home/index.ts'],
    ['~/.zapierrc'],
    ['result.error.issues[0]?.path'],
    ['describeEventDataIssues(checked.error.issues)'],
    ['function issueText(issue: z.core.$ZodIssue)'],
    ['a key issued by the platform'],
  ])('leaves alone %s', (line) => {
    expect(hygieneProblems('x.md', line)).toEqual([]);
  });
});
