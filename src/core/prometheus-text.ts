// Reading Prometheus text exposition: the sum of a metric's series whose labels include all of the given ones.
// Enough for receipts and tests (counters are read before and after a step); not a full parser.

export function seriesSum(text: string, metric: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
