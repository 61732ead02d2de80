/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit), no whitespace, `undefined` properties
 * left out, arrays in order. Two parties that hold the same JSON value produce the same string, so
 * a signature over it survives any re-serialization on the way (key order, spacing).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (seen.has(value)) throw new TypeError('canonicalJson: circular structure');
      seen.add(value);
      try {
        if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : write(item, seen))).join(',')}]`;
        const entries = Object.keys(value)
          .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
          .sort()
          .map((key) => `${JSON.stringify(key)}:${write((value as Record<string, unknown>)[key], seen)}`);
        return `{${entries.join(',')}}`;
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}
