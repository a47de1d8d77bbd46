// The fairer per-delivery floor: the app's own definition, copied, with every hook trigger's
// `perform` replaced by a pass-through. Everything the platform copies and freezes on each
// invocation (triggers, hidden dropdown triggers, authentication, beforeRequest, samples, output
// fields) is the same, so the difference to the app is what the app's `perform` itself costs.
import { BenchError } from './stats';

type Perform = (z: unknown, bundle: { cleanedRequest?: unknown }) => unknown[];

interface TriggerLike {
  operation?: { type?: unknown; perform?: unknown };
}

/**
 * A deep copy of a definition: plain objects and arrays are copied, functions are kept by
 * reference (as the platform's own copy does); anything else that is an object is refused, so the
 * floor cannot silently differ from the app.
 */
const copyDefinition = (value: unknown, path: string): unknown => {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item, index) => copyDefinition(item, `${path}[${index}]`));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new BenchError(`cannot copy ${path}: not a plain object or array`);
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = copyDefinition(item, `${path}.${key}`);
  return copy;
};

/**
 * The app's definition with each hook trigger's `perform` returning `[bundle.cleanedRequest]`. Each
 * trigger gets its own function, so createAppTester resolves it to that trigger's path.
 */
export const sameDefinitionApp = <App extends object>(app: App): { app: App; hookTriggers: string[]; performOf: (triggerKey: string) => Perform } => {
  const copy = copyDefinition(app, 'app') as App & { triggers?: Record<string, TriggerLike> };
  const performs = new Map<string, Perform>();
  for (const [key, trigger] of Object.entries(copy.triggers ?? {})) {
    const operation = trigger.operation;
    if (operation?.type !== 'hook') continue;
    if (typeof operation.perform !== 'function') throw new BenchError(`hook trigger ${key} has no perform`);
    const perform: Perform = (_z, bundle) => [bundle.cleanedRequest];
    operation.perform = perform;
    performs.set(key, perform);
  }
  if (performs.size === 0) throw new BenchError('the app has no hook trigger to replace');
  return {
    app: copy,
    hookTriggers: [...performs.keys()],
    performOf: (triggerKey) => {
      const perform = performs.get(triggerKey);
      if (!perform) throw new BenchError(`the same-definition floor has no hook trigger ${triggerKey}`);
      return perform;
    },
  };
};
