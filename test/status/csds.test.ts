import net from 'node:net';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnvoyProtos } from '../../src/resources/protos.js';
import { CSDS_FETCH_PATH, collectStatus, decodeClientStatusResponse, fetchAdminClients, fetchClientStatus, StatusError } from '../../src/status/index.js';
import { closedLoopbackPort } from '../helpers/ports.js';

const protos = loadEnvoyProtos();
const ResponseType = protos.lookupType('envoy.service.status.v3.ClientStatusResponse');
const RequestType = protos.lookupType('envoy.service.status.v3.ClientStatusRequest');
const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

function encodeResponse(object: Record<string, unknown>): Buffer {
  return Buffer.from(ResponseType.encode(ResponseType.fromObject(object)).finish());
}

const SAMPLE = {
  config: [
    {
      node: {
        id: 'envoy-1',
        cluster: 'frontend',
        locality: { region: 'eu', zone: 'eu-a' },
        user_agent_name: 'envoy',
        user_agent_build_version: { version: { major_number: 1, minor_number: 33, patch: 2 } },
        // protobufjs' own google.protobuf.Value is camelCase.
        metadata: {
          fields: {
            kube_cluster: { stringValue: 'east' },
            replicas: { numberValue: 3 },
            tags: { listValue: { values: [{ boolValue: true }] } },
            'herald.io/dependencies': { listValue: { values: [{ stringValue: 'ledger.pay' }, { stringValue: 'cart.shop' }] } },
          },
        },
      },
      client_scope: 'stream-4',
      generic_xds_configs: [
        { type_url: CDS, name: 'echo', version_info: 'c1', config_status: 'SYNCED', client_status: 'ACKED', last_updated: { seconds: 1_700_000_000, nanos: 500_000_000 } },
        {
          type_url: EDS,
          name: 'echo',
          version_info: 'e1',
          config_status: 'ERROR',
          client_status: 'NACKED',
          error_state: { details: 'duplicate endpoint', version_info: 'e2', last_update_attempt: { seconds: 1_700_000_001 } },
        },
        { type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', name: 's', config_status: 'SYNCED' },
      ],
    },
    {
      node: { id: 'old-style', user_agent_name: 'gRPC Go', user_agent_version: '1.20.0' },
      xds_config: [
        { status: 'STALE', cluster_config: {} },
        { status: 'SYNCED', listener_config: {} },
      ],
    },
  ],
};

describe('decodeClientStatusResponse', () => {
  it('decodes nodes, per-resource entries, error states and PerXdsConfig', () => {
    const [first, second] = decodeClientStatusResponse(protos, encodeResponse(SAMPLE));
    expect(first!.node).toEqual({
      id: 'envoy-1',
      cluster: 'frontend',
      region: 'eu',
      zone: 'eu-a',
      subZone: '',
      userAgent: 'envoy',
      userAgentVersion: '1.33.2',
      metadata: { kube_cluster: 'east', replicas: 3, tags: [true], 'herald.io/dependencies': ['ledger.pay', 'cart.shop'] },
    });
    expect(first!.scope).toBe('stream-4');
    // Types Herald does not serve are dropped.
    expect(first!.resources.map((r) => r.typeUrl)).toEqual([CDS, EDS]);
    expect(first!.resources[0]).toMatchObject({ name: 'echo', version: 'c1', configStatus: 'SYNCED', clientStatus: 'ACKED', lastUpdatedMs: 1_700_000_000_500, error: undefined });
    expect(first!.resources[1]!.error).toEqual({ details: 'duplicate endpoint', version: 'e2', atMs: 1_700_000_001_000 });
    expect(second!.node).toMatchObject({ userAgent: 'gRPC Go', userAgentVersion: '1.20.0' });
    expect(second!.resources).toEqual([]);
    expect(second!.perType).toEqual([
      { type: 'CDS', status: 'STALE' },
      { type: 'LDS', status: 'SYNCED' },
    ]);
  });

  it('decodes an empty answer to no clients', () => {
    expect(decodeClientStatusResponse(protos, Buffer.alloc(0))).toEqual([]);
  });
});

type Handler = (request: Buffer) => { bytes?: Buffer; error?: Partial<grpc.StatusObject> } | undefined;

const servers: grpc.Server[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const server of servers.splice(0)) server.forceShutdown();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fakeCsds(handler: Handler, withCsds = true): Promise<string> {
  const server = new grpc.Server();
  servers.push(server);
  if (withCsds) {
    server.addService(
      {
        FetchClientStatus: {
          path: CSDS_FETCH_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        FetchClientStatus: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          const answer = handler(call.request);
          if (!answer) return; // never answers
          if (answer.error) callback(answer.error as grpc.ServiceError, null);
          else callback(null, answer.bytes!);
        },
      },
    );
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return `127.0.0.1:${port}`;
}

describe('fetchClientStatus', () => {
  it('sends a ClientStatusRequest without resource contents and decodes the answer', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const address = await fakeCsds((request) => {
      seen.push(RequestType.toObject(RequestType.decode(request)));
      return { bytes: encodeResponse(SAMPLE) };
    });
    const clients = await fetchClientStatus({ address, protos, timeoutMs: 5_000 });
    expect(clients.map((c) => c.node?.id)).toEqual(['envoy-1', 'old-style']);
    expect(seen).toEqual([{ exclude_resource_contents: true }]);
  });

  it('names the address when nothing listens, well before the deadline', async () => {
    const port = await closedLoopbackPort();
    const started = Date.now();
    const error = await fetchClientStatus({ address: `127.0.0.1:${port}`, protos, timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatusError);
    expect((error as Error).message).toContain(`cannot reach Herald's xDS port at 127.0.0.1:${port}`);
    // Connection refused is an answer: it must not wait for the 20 s deadline.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('gives up at the deadline when the server never answers', async () => {
    const address = await fakeCsds(() => undefined);
    const error = await fetchClientStatus({ address, protos, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StatusError);
    expect((error as Error).message).toMatch(new RegExp(`${address} within 300 ms`));
  });

  it('explains a server without CSDS', async () => {
    const address = await fakeCsds(() => undefined, false);
    const error = await fetchClientStatus({ address, protos, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`the server at ${address} does not implement CSDS`);
  });

  it('passes on other server errors and undecodable answers', async () => {
    const failing = await fakeCsds(() => ({ error: { code: grpc.status.INTERNAL, details: 'boom' } }));
    await expect(fetchClientStatus({ address: failing, protos, timeoutMs: 5_000 })).rejects.toThrow(`CSDS call to ${failing} failed: boom`);
    const garbage = await fakeCsds(() => ({ bytes: Buffer.from([0xff, 0xff, 0xff]) }));
    await expect(fetchClientStatus({ address: garbage, protos, timeoutMs: 5_000 })).rejects.toThrow(/undecodable ClientStatusResponse/);
  });
});

async function fakeAdmin(body: string, status = 200): Promise<number> {
  const server = http.createServer((_req, res) => {
    res.statusCode = status;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

describe('collectStatus', () => {
  it('joins CSDS with connection times from the admin page', async () => {
    const address = await fakeCsds(() => ({ bytes: encodeResponse(SAMPLE) }));
    const adminPort = await fakeAdmin(JSON.stringify([{ id: '4', node: { id: 'envoy-1' }, connectedAtMs: 1234, types: { endpoint: { ackedVersion: '9', lastNack: null } } }]));
    const report = await collectStatus({ xdsAddress: address, admin: { host: '127.0.0.1', port: adminPort }, protos, timeoutMs: 5_000 });
    expect(report.warnings).toEqual([]);
    const envoy = report.rows.find((r) => r.nodeId === 'envoy-1')!;
    expect(envoy).toMatchObject({ service: 'frontend', kubeCluster: 'east', zone: 'eu/eu-a', connectedAtMs: 1234, dependencies: ['cart.shop', 'ledger.pay'] });
    expect(envoy.types.EDS).toMatchObject({ state: 'NACKED', ackedVersion: '9' });
    expect(envoy.lastNack).toMatchObject({ type: 'EDS', message: 'duplicate endpoint' });
  });

  it('still answers, with a warning, when the admin page cannot be read', async () => {
    const address = await fakeCsds(() => ({ bytes: encodeResponse(SAMPLE) }));
    const adminPort = await closedLoopbackPort();
    const report = await collectStatus({ xdsAddress: address, admin: { host: '127.0.0.1', port: adminPort }, protos, timeoutMs: 5_000 });
    expect(report.rows).toHaveLength(2);
    expect(report.rows.every((r) => r.connectedAtMs === undefined)).toBe(true);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toContain(`127.0.0.1:${adminPort}/debug/clients`);
  });

  it('rejects admin answers that are not a JSON 200', async () => {
    const bad = await fakeAdmin('{not json');
    await expect(fetchAdminClients('127.0.0.1', bad, 5_000)).rejects.toThrow(/did not answer JSON/);
    const missing = await fakeAdmin('gone', 404);
    await expect(fetchAdminClients('127.0.0.1', missing, 5_000)).rejects.toThrow(/HTTP 404/);
  });
});
