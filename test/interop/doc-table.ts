// Reads an "observed" table of docs/XDS-CLIENTS.md: the interop tests that fill one fail unless
// it says what the clients were seen doing.
import { readFileSync } from 'node:fs';

/** The table whose header row starts with `| ${first} |`: row title → client → cell. */
export function docTable(file: string, first: string): Map<string, Map<string, string>> {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`${file} has no table whose header starts with "| ${first} |"`);
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const clients = cells(lines[start]!).slice(1);
  const table = new Map<string, Map<string, string>>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [title, ...values] = cells(line);
    table.set(title!, new Map(clients.map((c, i) => [c, values[i] ?? ''])));
  }
  return table;
}
