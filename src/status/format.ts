import { XDS_TYPES, type StatusRow, type TypeSummary } from './types.js';

const MAX_NACK_CHARS = 80;
const MAX_VERSION_CHARS = 16;
const MAX_CLIENT_CHARS = 28;

function clip(text: string, max: number): string {
  // Messages can hold newlines (Envoy joins per-resource errors); a table line must stay one line.
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "SYNCED v12", "STALE(2 behind) v11", "NACKED(1) v11", "NOT SENT". */
export function formatTypeCell(summary: TypeSummary): string {
  let state: string;
  switch (summary.state) {
    case 'STALE':
      state = `STALE(${summary.behind} behind)`;
      break;
    case 'NACKED':
      state = summary.behind > 0 ? `NACKED(${summary.behind})` : 'NACKED';
      break;
    default:
      state = summary.state;
  }
  if (summary.state === 'NOT SENT' || summary.ackedVersion === undefined) return state;
  return `${state} v${clip(summary.ackedVersion, MAX_VERSION_CHARS)}`;
}

/** Age in the largest two units: "45s", "3m12s", "2h05m", "3d04h". */
export function formatAge(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${pad(h)}h`;
  if (h > 0) return `${h}h${pad(m)}m`;
  if (m > 0) return `${m}m${pad(s)}s`;
  return `${s}s`;
}

/** "2026-11-22T02:51:36Z (3m12s)" or "-" when unknown. */
export function formatSince(connectedAtMs: number | undefined, nowMs: number): string {
  if (connectedAtMs === undefined) return '-';
  const iso = new Date(connectedAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${iso} (${formatAge(nowMs - connectedAtMs)})`;
}

export function formatNack(row: StatusRow): string {
  if (!row.lastNack) return '-';
  return `${row.lastNack.type}: ${clip(row.lastNack.message || '(no message)', MAX_NACK_CHARS)}`;
}

/** "envoy/1.33.2", "envoy/1.28.7 (old)", "envoy/?" (no version sent), "gRPC Go/1.70.0", or "-" without a node. */
export function formatClient(row: StatusRow): string {
  if (!row.client || (!row.client.userAgent && !row.client.version)) return '-';
  const name = clip(row.client.userAgent || '?', MAX_CLIENT_CHARS);
  const version = clip(row.client.version || '?', MAX_VERSION_CHARS);
  return `${name}/${version}${row.envoySupport === 'old' ? ' (old)' : ''}`;
}

/** "all" for a client that declared no dependencies, else how many it declared ("1 service", "20 services"). */
export function formatScope(row: StatusRow): string {
  if (row.dependencies === undefined) return 'all';
  return `${row.dependencies.length} service${row.dependencies.length === 1 ? '' : 's'}`;
}

/**
 * Which view the client's assignments are built for: "own" (its declared kube cluster and zone),
 * "own+spill" (and Herald spills for it, as it ignores overprovisioning), "replica" (it declared
 * nothing), "refused" (past the bound on distinct perspectives: the replica's view), "-" unknown.
 */
export function formatView(row: StatusRow): string {
  const p = row.perspective;
  if (!p) return '-';
  if (p.refused) return 'refused';
  if (p.replicaView) return 'replica';
  return p.ignoresOverprovisioning ? 'own+spill' : 'own';
}

export const TABLE_HEADER = ['NODE', 'SERVICE', 'NAMESPACE', 'KUBE CLUSTER', 'ZONE', 'VIEW', 'CLIENT', 'SCOPE', 'CONNECTED SINCE', ...XDS_TYPES, 'LAST NACK'] as const;

export function rowCells(row: StatusRow, nowMs: number): string[] {
  return [
    row.nodeId || '(no node id)',
    row.service || '-',
    row.namespace ?? '-',
    row.kubeCluster ?? '-',
    row.zone ?? '-',
    formatView(row),
    formatClient(row),
    formatScope(row),
    formatSince(row.connectedAtMs, nowMs),
    ...XDS_TYPES.map((type) => formatTypeCell(row.types[type])),
    formatNack(row),
  ];
}

/** Columns padded to the widest cell, two spaces apart, like kubectl; no trailing spaces. */
export function formatTable(rows: readonly StatusRow[], nowMs: number): string {
  if (rows.length === 0) return 'No xDS clients connected.\n';
  return alignColumns([[...TABLE_HEADER], ...rows.map((row) => rowCells(row, nowMs))]);
}

/** Lines of cells as columns padded to the widest cell, two spaces apart, like kubectl; no trailing spaces. */
export function alignColumns(lines: readonly (readonly string[])[]): string {
  const widths = (lines[0] ?? []).map((_, column) => Math.max(...lines.map((cells) => (cells[column] ?? '').length)));
  return (
    lines
      .map((cells) =>
        cells
          .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** Machine-readable output: rows as they are, times as ISO strings too. */
export function formatJson(rows: readonly StatusRow[]): string {
  const out = rows.map((row) => ({
    ...row,
    connectedAt: row.connectedAtMs === undefined ? null : new Date(row.connectedAtMs).toISOString(),
  }));
  return `${JSON.stringify(out, null, 2)}\n`;
}
