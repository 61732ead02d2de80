/**
 * A small RFC 4180 CSV reader: quoted fields may hold commas, newlines and doubled quotes.
 * Returns rows of strings; the header row is the first.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < input.length) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field.length === 0) {
      quoted = true;
      i += 1;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
      i += c === '\r' && input[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i += 1;
    }
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** Rows as records keyed by the header, with their 1-based line-in-table number (header = 1). */
export function parseCsvRecords(text: string): Array<{ row: number; record: Record<string, string> }> {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  return rows.map((cells, index) => {
    const record: Record<string, string> = {};
    header.forEach((name, column) => {
      record[name] = cells[column] ?? '';
    });
    return { row: index + 2, record };
  });
}
