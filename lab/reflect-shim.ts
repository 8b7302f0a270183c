/**
 * @peculiar/x509 registers its classes with tsyringe, which refuses to load without a Reflect metadata
 * polyfill, and `reflect-metadata` is not a dependency. This is the small subset tsyringe calls
 * (define/get/getOwn/has metadata and the `Reflect.metadata` decorator factory). Import it first.
 */
type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();

function own(target: Target): Map<unknown, unknown> {
  let m = store.get(target);
  if (!m) store.set(target, (m = new Map()));
  return m;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== "function") {
  R.defineMetadata = (key: unknown, value: unknown, target: Target) => void own(target).set(key, value);
  R.getOwnMetadata = (key: unknown, target: Target) => store.get(target)?.get(key);
  R.hasOwnMetadata = (key: unknown, target: Target) => store.get(target)?.has(key) ?? false;
  R.getMetadata = (key: unknown, target: Target) => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const m = store.get(t);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  R.hasMetadata = (key: unknown, target: Target) => (R.getMetadata as (k: unknown, t: Target) => unknown)(key, target) !== undefined;
  R.metadata = (key: unknown, value: unknown) => (target: Target) => void own(target).set(key, value);
}

export {};
