// Reading Prometheus text exposition: the sum of a metric's series whose labels match the given ones (a value,
// or a pattern the whole value must match). Enough for receipts and tests (counters are read before and after a
// step); not a full parser.

export function seriesSum(text: string, metric: string, labels: Record<string, string | RegExp> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const matches = Object.entries(labels).every(([key, wanted]) => {
      if (typeof wanted === 'string') return line.includes(`${key}="${wanted}"`);
      const value = new RegExp(`[{,]${key}="([^"]*)"`).exec(line)?.[1];
      return value !== undefined && new RegExp(`^(?:${wanted.source})$`).test(value);
    });
    if (matches) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
