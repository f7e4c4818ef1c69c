import http from 'node:http';
import { RESOURCE_KINDS } from '../model/index.js';
import type { AdminClient, AdminPerspective, AdminTypeInfo, XdsType } from './types.js';

const KIND_TO_TYPE: Readonly<Record<string, XdsType>> = Object.fromEntries(RESOURCE_KINDS.map((spec) => [spec.kind, spec.short]));

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function parseType(value: unknown): AdminTypeInfo | undefined {
  const info = record(value);
  if (!info) return undefined;
  const nack = record(info['lastNack']);
  return {
    ackedVersion: str(info['ackedVersion']),
    lastNack: nack ? { message: str(nack['message']) ?? '', rejectedVersion: str(nack['rejectedVersion']) ?? '', atMs: num(nack['atMs']) } : undefined,
  };
}

function parsePerspective(value: unknown): AdminPerspective | undefined {
  const p = record(value);
  if (!p || typeof p['replicaView'] !== 'boolean') return undefined;
  return { ignoresOverprovisioning: p['ignoresOverprovisioning'] === true, replicaView: p['replicaView'], refused: p['refused'] === true };
}

/**
 * Reads the JSON of /debug/clients. The page is an operator aid whose shape may grow, so
 * anything unexpected is skipped rather than fatal.
 */
export function parseAdminClients(json: unknown): AdminClient[] {
  if (!Array.isArray(json)) return [];
  const out: AdminClient[] = [];
  for (const item of json) {
    const client = record(item);
    if (!client) continue;
    const types: Partial<Record<XdsType, AdminTypeInfo>> = {};
    for (const [kind, value] of Object.entries(record(client['types']) ?? {})) {
      const type = KIND_TO_TYPE[kind];
      const info = parseType(value);
      if (type && info) types[type] = info;
    }
    out.push({
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- an id sent as a number is shown as that number
      id: str(client['id']) ?? String(client['id'] ?? ''),
      nodeId: str(record(client['node'])?.['id']) ?? '',
      connectedAtMs: num(client['connectedAtMs']),
      types,
      perspective: parsePerspective(client['perspective']),
    });
  }
  return out;
}

/**
 * GET http://host:port/debug/clients within timeoutMs, with the admin token when given;
 * rejects with a message naming the address.
 */
export function fetchAdminClients(host: string, port: number, timeoutMs: number, token?: string): Promise<AdminClient[]> {
  return fetchAdminJson(host, port, '/debug/clients', timeoutMs, token).then(parseAdminClients);
}

/** GET one JSON page of the admin port within timeoutMs; rejects with a message naming the URL. */
export function fetchAdminJson(host: string, port: number, path: string, timeoutMs: number, token?: string): Promise<unknown> {
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const url = `http://${hostPart}:${port}${path}`;
  return new Promise<unknown>((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const request = http.get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // A debug page is small; refuse to buffer something that is clearly not it.
        if (size > 64 * 1024 * 1024) request.destroy(new Error('response too large'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        if (response.statusCode === 401 || response.statusCode === 403) {
          return reject(
            new Error(
              `${url} answered HTTP ${response.statusCode}: ${token === undefined ? 'pass --token-file, or reach Herald through kubectl port-forward' : 'the token of --token-file is not the one Herald accepts'}`,
            ),
          );
        }
        if (response.statusCode !== 200) return reject(new Error(`${url} answered HTTP ${response.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (err) {
          reject(new Error(`${url} did not answer JSON: ${err instanceof Error ? err.message : String(err)}`));
        }
      });
      response.on('error', (err) => reject(new Error(`${url}: ${err.message}`)));
    });
    // One deadline for connect, headers and body alike.
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('close', () => clearTimeout(timer));
    request.on('error', (err) => reject(new Error(`${url}: ${err.message}`)));
  });
}
