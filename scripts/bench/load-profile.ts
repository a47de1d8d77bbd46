// Child process of the bench: `node load-profile.js <request>` in an unzipped build. Requires
// <request> (resolved from the working folder) and prints, as JSON, the self time spent loading
// each package: reading, compiling and running its files, minus the time of the files they require.
// Indicative only (the timing hooks cost a little); the cold-load ratio comes from plain processes.
export {};

const Module = require('node:module') as { _extensions: Record<string, (module: unknown, filename: string) => unknown> };

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const home = process.cwd();

const packageOf = (filename: string): string => {
  const match = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*node_modules[\\/])/.exec(filename);
  if (match) return match[1]!.replace('\\', '/');
  const relative = filename.startsWith(home) ? filename.slice(home.length + 1) : filename;
  const folder = /^([^\\/]+)[\\/]/.exec(relative);
  return `(app) ${folder ? `${folder[1]}/` : relative}`;
};

const self = new Map<string, number>();
const childTime: number[] = [];
let modules = 0;

for (const extension of ['.js', '.json']) {
  const original = Module._extensions[extension];
  if (!original) continue;
  Module._extensions[extension] = function (this: unknown, module: unknown, filename: string) {
    const start = now();
    childTime.push(0);
    try {
      return original.call(this, module, filename);
    } finally {
      const total = now() - start;
      const nested = childTime.pop() ?? 0;
      const key = packageOf(filename);
      self.set(key, (self.get(key) ?? 0) + total - nested);
      const parent = childTime.length - 1;
      if (parent >= 0) childTime[parent] = (childTime[parent] ?? 0) + total;
      modules += 1;
    }
  };
}

const request = process.argv[2];
if (!request) throw new Error('usage: node load-profile.js <request>');
const start = now();
require(require.resolve(request, { paths: [home] }));
const totalMs = now() - start;
const accounted = [...self.values()].reduce((sum, ms) => sum + ms, 0);
const byPackage = [...self.entries(), ['(resolution, builtins, ESM)', totalMs - accounted] as [string, number]]
  .map(([name, ms]) => [name, Number(ms.toFixed(2))] as const)
  .sort((a, b) => b[1] - a[1]);
process.stdout.write(JSON.stringify({ totalMs, modules, byPackage }));
