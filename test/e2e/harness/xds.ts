import { AdsClient } from '../../../src/xdsclient/index.js';
import type { AssignmentEndpoint } from '../../../src/xdsclient/index.js';
import { loadEnvoyProtos } from '../../../src/resources/protos.js';

let protos: ReturnType<typeof loadEnvoyProtos> | undefined;

/** An Envoy-like ADS client (wildcard CDS, EDS for every cluster) against Herald. */
export function envoy(target: string, nodeId: string): AdsClient {
  protos ??= loadEnvoyProtos();
  const client = new AdsClient({ target, nodeId, protos, zone: 'z-test', region: 'r-test', backoff: { baseMs: 200, capMs: 2000 } });
  client.on('error', () => undefined);
  return client.start();
}

/** The endpoints the client holds for one Envoy cluster, keyed "ip:port". */
export function endpointMap(client: AdsClient, service: string): Map<string, AssignmentEndpoint> {
  const map = new Map<string, AssignmentEndpoint>();
  for (const e of client.assignment(service)?.endpoints ?? []) map.set(`${e.address}:${e.port}`, e);
  return map;
}

/** "ip:port=HEALTH" strings, sorted: compact to compare and readable in a failure. */
export function healthView(client: AdsClient, service: string): string[] {
  return [...endpointMap(client, service).values()].map((e) => `${e.address}:${e.port}=${e.health}`).sort();
}

/** Waits until `predicate` holds for the client; a timeout reports what the client holds. */
export async function until(client: AdsClient, what: string, predicate: (c: AdsClient) => boolean, timeoutMs = 30_000, show: string[] = []): Promise<void> {
  try {
    await client.waitFor(predicate, timeoutMs);
  } catch (error) {
    const held = show.map((s) => `${s}: [${healthView(client, s).join(', ')}]`).join('\n');
    throw new Error(`${what}: ${(error as Error).message}\nclusters: ${client.clusters().join(',')}\n${held}`, { cause: error });
  }
}
