import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { fetchAdminClients } from './admin.js';
import { fetchClientStatus } from './csds.js';
import { buildRows } from './summarize.js';
import type { AdminClient, StatusRow } from './types.js';

export interface StatusQuery {
  /** host:port of Herald's xDS port (CSDS is served there). */
  xdsAddress: string;
  /** Herald's admin port, for "connected since"; leave out to skip it. */
  admin: { host: string; port: number } | undefined;
  protos: protobuf.Root;
  timeoutMs: number;
  /** TLS for the xDS port; plaintext when absent. */
  credentials?: grpc.ChannelCredentials | undefined;
  /** Herald's admin token (sent as a bearer token to CSDS and the admin port); not needed over loopback. */
  token?: string | undefined;
}

export interface StatusReport {
  rows: StatusRow[];
  /** Problems that left parts of the lines blank without failing the command. */
  warnings: string[];
}

/** Asks CSDS (required) and the admin page (optional, in parallel) and joins the answers. */
export async function collectStatus(query: StatusQuery): Promise<StatusReport> {
  const warnings: string[] = [];
  const adminClients: Promise<AdminClient[]> = query.admin
    ? fetchAdminClients(query.admin.host, query.admin.port, query.timeoutMs, query.token).catch((err: unknown) => {
        warnings.push(`connection times unknown: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      })
    : Promise.resolve([]);
  const [clients, admin] = await Promise.all([
    fetchClientStatus({ address: query.xdsAddress, protos: query.protos, timeoutMs: query.timeoutMs, credentials: query.credentials, token: query.token }),
    adminClients,
  ]);
  return { rows: buildRows(clients, admin), warnings };
}
