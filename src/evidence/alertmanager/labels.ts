// Label sets and their fingerprints, computed exactly as Prometheus' common/model does (FNV-1a 64 over the
// sorted names and values, each followed by the 0xff separator), so our alert fingerprints equal a real
// Alertmanager's and amtool shows the same ids.

export type Labels = Readonly<Record<string, string>>;

const OFFSET64 = 14695981039346656037n;
const PRIME64 = 1099511628211n;
const MASK64 = (1n << 64n) - 1n;
const SEPARATOR = 0xff;

export function fingerprint(labels: Labels): string {
  let hash = OFFSET64;
  const add = (byte: number): void => {
    hash ^= BigInt(byte);
    hash = (hash * PRIME64) & MASK64;
  };
  for (const name of Object.keys(labels).sort()) {
    for (const byte of Buffer.from(name, 'utf8')) add(byte);
    add(SEPARATOR);
    for (const byte of Buffer.from(labels[name] ?? '', 'utf8')) add(byte);
    add(SEPARATOR);
  }
  return hash.toString(16).padStart(16, '0');
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/** `{a="1", b="2"}` with names sorted, as Prometheus prints a label set. */
export function formatLabels(labels: Labels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}

export function pickLabels(labels: Labels, names: readonly string[]): Labels {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = labels[name];
    if (value !== undefined && value !== '') picked[name] = value;
  }
  return picked;
}
