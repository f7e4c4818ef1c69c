// Reads an "observed" table of docs/XDS-CLIENTS.md: the interop tests that fill one fail unless
// it says what the clients were seen doing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** docs/XDS-CLIENTS.md, which the interop tests that observe clients hold to what they saw. */
export const XDS_CLIENTS_DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/XDS-CLIENTS.md');

/** The header of the table the locality tests fill (zone-preference, perspectives, overprovisioning, evacuation). */
export const LOCALITY_TABLE = 'locality and failover';

/**
 * One row of the locality table as one client's suite saw it: 'yes' once each of its `expected`
 * behaviour tests has called pass(), else how many did (a failed test has already said why).
 */
export class LocalityRow {
  private passed = 0;
  constructor(
    readonly title: string,
    private readonly expected: number,
  ) {}

  pass(): void {
    this.passed++;
  }

  get seen(): string {
    return this.passed === this.expected ? 'yes' : `no (${this.passed} of ${this.expected} checks passed)`;
  }

  /** What the doc's cell for this row and client says. */
  documented(client: string): string | undefined {
    return docTable(XDS_CLIENTS_DOC, LOCALITY_TABLE).get(this.title)?.get(client);
  }
}
