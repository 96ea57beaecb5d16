// The size that in-memory bounds count: UTF-8 bytes of every string (object keys included), the bytes of
// binary views, 8 per number or boolean. It walks the value instead of serialising it, so measuring a large
// object costs no second copy. V8's heap for the same value is of the same order (one-byte strings are
// stored one byte per character), plus a fixed overhead per object that this deliberately leaves out.
export function retainedBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return 8;
  if (value === null || value === undefined || typeof value !== 'object') return 0;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  let total = 0;
  if (Array.isArray(value)) {
    for (const item of value) total += retainedBytes(item);
    return total;
  }
  for (const [key, item] of Object.entries(value)) total += Buffer.byteLength(key, 'utf8') + retainedBytes(item);
  return total;
}
