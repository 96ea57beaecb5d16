// Matchers are closures over a RequestView. ALWAYS and NEVER are singletons so composition can fold them away
// and callers can ask "can this rule ever match?" by identity.
import type { RequestView } from './request-view.ts';

export type Predicate = (request: RequestView) => boolean;

export const ALWAYS: Predicate = () => true;
export const NEVER: Predicate = () => false;

export function allOf(predicates: readonly Predicate[]): Predicate {
  const kept = predicates.filter((predicate) => predicate !== ALWAYS);
  if (kept.includes(NEVER)) return NEVER;
  if (kept.length === 0) return ALWAYS;
  if (kept.length === 1) return kept[0]!;
  if (kept.length === 2) {
    const [first, second] = kept as [Predicate, Predicate];
    return (request) => first(request) && second(request);
  }
  return (request) => {
    for (const predicate of kept) if (!predicate(request)) return false;
    return true;
  };
}

export function anyOf(predicates: readonly Predicate[]): Predicate {
  const kept = predicates.filter((predicate) => predicate !== NEVER);
  if (kept.includes(ALWAYS)) return ALWAYS;
  if (kept.length === 0) return NEVER;
  if (kept.length === 1) return kept[0]!;
  return (request) => {
    for (const predicate of kept) if (predicate(request)) return true;
    return false;
  };
}
