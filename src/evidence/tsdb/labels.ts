// Label sets as Prometheus has them: a map from name to non-empty value, with `__name__` for the metric name.
// One canonical key per set (names sorted) so that a series is found by its labels alone.

export type Labels = Readonly<Record<string, string>>;

export const METRIC_NAME = '__name__';

/** The same label set always gives the same key, whatever the order its names were written in. */
export function labelsKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  let key = '';
  for (const name of names) {
    const value = labels[name]!;
    if (value === '') continue;
    key += `${name}\u0000${value}\u0001`;
  }
  return key;
}

/** Prometheus drops labels with an empty value: `{a=""}` is the same series as `{}`. */
export function normaliseLabels(labels: Labels): Labels {
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name]!;
    if (value !== '') out[name] = value;
  }
  return out;
}

export function withoutName(labels: Labels): Labels {
  if (!(METRIC_NAME in labels)) return labels;
  const { [METRIC_NAME]: _dropped, ...rest } = labels;
  return rest;
}

/** `name{a="1", b="2"}` as Prometheus prints a series. */
export function formatLabels(labels: Labels): string {
  const name = labels[METRIC_NAME] ?? '';
  const rest = Object.keys(labels)
    .filter((key) => key !== METRIC_NAME)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`);
  return rest.length === 0 && name !== '' ? name : `${name}{${rest.join(', ')}}`;
}
