import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { accessGuard } from '../../src/access/index.js';
import { TYPE_URLS } from '../../src/model/index.js';
import { HeraldMetrics, silentLogger } from '../../src/telemetry/index.js';
import type { ResourceStatus } from '../../src/xds/bookkeeping/index.js';
import { csdsLimits, csdsService, DEFAULT_CSDS_LIMITS } from '../../src/xds/csds/index.js';
import { nodeFilter } from '../../src/xds/csds/node-filter.js';
import { WorkGate } from '../../src/xds/csds/work-gate.js';
import type { ObservedStream } from '../../src/xds/index.js';
import { protos, startHarness, until, type Harness } from './helpers.js';
import { DeltaTestStream } from './delta-helpers.js';

const SERVICE = '/envoy.service.status.v3.ClientStatusDiscoveryService';

interface GenericConfig {
  type_url: string;
  name: string;
  version_info: string;
  config_status: string;
  client_status: string;
  last_updated: { seconds: number; nanos: number } | null;
  error_state: { details: string; version_info: string } | null;
}
interface ClientConfig {
  node: { id: string; cluster: string; locality: { zone: string } | null; metadata: unknown } | null;
  generic_xds_configs: GenericConfig[];
}

const encodeRequest = (fields: Record<string, unknown>): Buffer => {
  const Request = protos().lookupType('envoy.service.status.v3.ClientStatusRequest');
  return Buffer.from(Request.encode(Request.fromObject(fields)).finish());
};
const decodeResponse = (bytes: Buffer): ClientConfig[] => {
  const Response = protos().lookupType('envoy.service.status.v3.ClientStatusResponse');
  const raw = Response.toObject(Response.decode(bytes), { enums: String, longs: Number, defaults: true }) as { config: ClientConfig[] };
  return raw.config;
};

/** The raw answer: decoding a large one in the callback would itself stall the event loop being measured. */
function fetchRaw(client: grpc.Client, fields: Record<string, unknown> = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `${SERVICE}/FetchClientStatus`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      encodeRequest(fields),
      (err, value) => (err ? reject(err) : resolve(value!)),
    );
  });
}

const fetchStatus = async (client: grpc.Client, fields: Record<string, unknown> = {}): Promise<ClientConfig[]> => decodeResponse(await fetchRaw(client, fields));

/** A client that takes answers of any size (grpc-js clients refuse more than 4 MiB by default). */
function bigClient(h: Harness): grpc.Client {
  return new grpc.Client(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
}

async function rejected(h: Harness, reason: string): Promise<number> {
  const metric = await h.metrics.xdsRejectedRequests.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** Connects an ADS stream for `id` that subscribes to `names` endpoints, and waits until the server holds them. */
async function subscriber(h: Harness, id: string, names: string[]): Promise<void> {
  const stream = h.stream();
  stream.request('endpoint', { node: { id }, resource_names: names });
  await until(() => h.server.clients().some((c) => c.node?.id === id && c.types.endpoint?.subscription.nameCount === names.length), 30_000, `${id} subscribed`);
}

const names = (count: number, prefix = 'svc'): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

/** Runs `work` while watching the event loop; returns its result and the longest stall seen, in ms. */
async function watchingLoop<T>(work: () => Promise<T>): Promise<{ result: T; maxStallMs: number }> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    const result = await work();
    return { result, maxStallMs: delay.max / 1e6 };
  } finally {
    delay.disable();
  }
}

const byName = (configs: GenericConfig[]): Record<string, string> =>
  Object.fromEntries(configs.map((c) => [`${c.type_url.split('.').pop()}/${c.name}`, `${c.client_status}/${c.config_status}`]));

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('CSDS', () => {
  it('reports every connected client with its node and per-resource status', async () => {
    h = await startHarness();
    for (const svc of ['a', 'b']) {
      h.put('cluster', svc, 'v1');
      h.put('endpoint', svc, 'v1');
    }
    const node = { id: 'sidecar-1', cluster: 'shop', locality: { region: 'r1', zone: 'z1' }, metadata: { fields: { team: { stringValue: 'web' } } } };
    const sotw = h.stream();
    sotw.request('cluster', { node });
    const cds = await sotw.next();
    sotw.ack(cds);
    sotw.request('endpoint', { resource_names: ['a', 'b'] });
    const eds = await sotw.next();
    sotw.nack(eds, ['a', 'b']);

    const d = new DeltaTestStream(h.client());
    d.request('endpoint', { node: { id: 'delta-1' }, subscribe: ['a', 'ghost'] });
    d.ack(await d.next());
    await until(() => h!.server.clients().every((c) => Object.values(c.types).every((t) => !t.pending)), 2_000, 'answers processed');

    const configs = await fetchStatus(h.client());
    expect(configs.map((c) => c.node?.id).sort()).toEqual(['delta-1', 'sidecar-1']);
    const sidecar = configs.find((c) => c.node?.id === 'sidecar-1')!;
    expect(sidecar.node).toMatchObject({ cluster: 'shop', locality: { zone: 'z1' }, metadata: { fields: { team: { stringValue: 'web' } } } });
    expect(byName(sidecar.generic_xds_configs)).toEqual({
      'Cluster/a': 'ACKED/SYNCED',
      'Cluster/b': 'ACKED/SYNCED',
      'ClusterLoadAssignment/a': 'NACKED/ERROR',
      'ClusterLoadAssignment/b': 'NACKED/ERROR',
    });
    const nacked = sidecar.generic_xds_configs.find((c) => c.type_url === TYPE_URLS.endpoint && c.name === 'a')!;
    expect(nacked.error_state).toMatchObject({ details: 'rejected by test', version_info: h.cache.get('endpoint', 'a')!.version });
    expect(nacked.version_info).toBe('');
    const acked = sidecar.generic_xds_configs.find((c) => c.type_url === TYPE_URLS.cluster && c.name === 'a')!;
    expect(acked.version_info).toBe(h.cache.get('cluster', 'a')!.version);
    expect(acked.error_state).toBeNull();
    expect(Math.abs(acked.last_updated!.seconds * 1000 - Date.now())).toBeLessThan(60_000);

    const deltaClient = configs.find((c) => c.node?.id === 'delta-1')!;
    expect(byName(deltaClient.generic_xds_configs)).toEqual({
      'ClusterLoadAssignment/a': 'ACKED/SYNCED',
      'ClusterLoadAssignment/ghost': 'DOES_NOT_EXIST/SYNCED',
    });

    // A change not yet ACKed makes the client stale.
    h.put('cluster', 'b', 'v2');
    await until(() => sotw.received.length > 0, 2_000, 'cds update');
    const later = await fetchStatus(h.client());
    expect(byName(later.find((c) => c.node?.id === 'sidecar-1')!.generic_xds_configs)['Cluster/b']).toBe('ACKED/STALE');
  });

  it('echoes an Envoy-sized Node field for field for every stream that shares its extension list', async () => {
    h = await startHarness();
    h.put('cluster', 'a', 'v1');
    const extensions = Array.from({ length: 300 }, (_, i) => ({
      name: `envoy.filters.http.ext_${i}`,
      category: 'envoy.filters.http',
      type_urls: [`type.googleapis.com/envoy.extensions.filters.http.ext_${i}.v3.Config`],
    }));
    const nodeOf = (id: string) => ({
      id,
      cluster: 'shop',
      user_agent_name: 'envoy',
      extensions,
      client_features: ['envoy.lb.does_not_support_overprovisioning', 'xds.config.resource-in-sotw'],
    });
    for (const id of ['sidecar-1', 'sidecar-2', 'sidecar-3']) {
      const stream = h.stream();
      stream.request('cluster', { node: nodeOf(id) });
      stream.ack(await stream.next());
    }
    const configs = await fetchStatus(h.client());
    expect(configs.map((c) => c.node?.id).sort()).toEqual(['sidecar-1', 'sidecar-2', 'sidecar-3']);
    for (const config of configs) {
      const node = config.node as unknown as Record<string, unknown>;
      expect(node).toMatchObject({ cluster: 'shop', user_agent_name: 'envoy', client_features: nodeOf('').client_features });
      expect(node.extensions).toHaveLength(300);
      expect(node.extensions).toMatchObject(extensions);
    }
  });

  it('filters clients by node_matchers on the node id', async () => {
    h = await startHarness();
    h.put('cluster', 'a', 'v1');
    for (const id of ['web-1', 'web-2', 'db-1']) {
      const s = h.stream();
      s.request('cluster', { node: { id } });
      await s.next();
    }
    const ids = async (matchers: unknown[]): Promise<string[]> => (await fetchStatus(h!.client(), { node_matchers: matchers })).map((c) => c.node!.id).sort();
    expect(await ids([{ node_id: { exact: 'web-2' } }])).toEqual(['web-2']);
    expect(await ids([{ node_id: { prefix: 'web-' } }])).toEqual(['web-1', 'web-2']);
    expect(await ids([{ node_id: { safe_regex: { regex: '.*-1' } } }, { node_id: { exact: 'web-2' } }])).toEqual(['db-1', 'web-1', 'web-2']);
    expect(await ids([{ node_id: { exact: 'nobody' } }])).toEqual([]);
    await expect(fetchStatus(h.client(), { node_matchers: [{ node_metadatas: [{ path: [{ key: 'x' }], value: { present_match: true } }] }] })).rejects.toMatchObject({ code: 12 });
    await expect(fetchStatus(h.client(), { node_matchers: [{ node_id: { safe_regex: { regex: '(' } } }] })).rejects.toMatchObject({ code: 3 });
  });

  it('answers every request on StreamClientStatus', async () => {
    h = await startHarness();
    h.put('cluster', 'a', 'v1');
    const call = h.client().makeBidiStreamRequest(`${SERVICE}/StreamClientStatus`, (b: Buffer) => b, decodeResponse);
    const got: ClientConfig[][] = [];
    call.on('data', (configs: ClientConfig[]) => got.push(configs));
    call.on('error', () => undefined);
    call.write(encodeRequest({}));
    await until(() => got.length === 1, 5_000, 'first status');
    expect(got[0]).toEqual([]);
    const s = h.stream();
    s.request('cluster', { node: { id: 'late' } });
    s.ack(await s.next());
    await until(() => h!.server.clients()[0]?.types.cluster?.sync === 'synced', 2_000, 'ack');
    call.write(encodeRequest({}));
    await until(() => got.length === 2, 5_000, 'second status');
    expect(got[1]!.map((c) => [c.node?.id, byName(c.generic_xds_configs)])).toEqual([['late', { 'Cluster/a': 'ACKED/SYNCED' }]]);
    call.end();
  });
});

describe('CSDS shutdown', () => {
  it('close() ends open StreamClientStatus calls', async () => {
    const local = await startHarness();
    const call = local.client().makeBidiStreamRequest(`${SERVICE}/StreamClientStatus`, (b: Buffer) => b, decodeResponse);
    let ended = false;
    let answers = 0;
    call.on('data', () => (answers += 1));
    call.on('status', () => (ended = true));
    call.on('error', () => undefined);
    call.write(encodeRequest({}));
    await until(() => answers === 1, 5_000, 'status answer');
    // A grace longer than the test timeout: only ending the call lets close() finish in time.
    await local.server.close(120_000);
    await until(() => ended, 5_000, 'CSDS stream ended by close()');
    await local.close();
  });
});

describe('nodeFilter', () => {
  it.each([
    { matcher: { exact: 'A' }, id: 'a', want: false },
    { matcher: { exact: 'A', ignore_case: true }, id: 'a', want: true },
    { matcher: { suffix: '-z' }, id: 'x-z', want: true },
    { matcher: { contains: 'mid' }, id: 'amidb', want: true },
    { matcher: { safe_regex: { regex: 'a+' } }, id: 'aab', want: false },
  ])('$matcher on $id → $want', ({ matcher, id, want }) => {
    expect(nodeFilter({ node_matchers: [{ node_id: matcher }] })(id)).toBe(want);
  });
});

// The bounds: CSDS cannot be used to take Herald down. Hostile patterns run in linear time,
// requests past a limit are refused by name, answers for huge clients are built in slices (no
// stack overflow, the event loop keeps turning), and concurrent or abandoned calls cost bounded work.
describe('CSDS node_matchers', () => {
  it('runs a catastrophic-backtracking regex in linear time, while the event loop keeps turning', async () => {
    h = await startHarness();
    const long = 'a'.repeat(27);
    await subscriber(h, `${long}!`, ['x']);
    await subscriber(h, long, ['x']);
    // (a+)+$ against a run of a's that ends in '!' takes a backtracking engine 2^27 steps (seconds).
    const { result, maxStallMs } = await watchingLoop(() => fetchStatus(h!.client(), { node_matchers: [{ node_id: { safe_regex: { regex: '(a+)+$' } } }] }));
    expect(result.map((c) => c.node?.id)).toEqual([long]);
    expect(maxStallMs).toBeLessThan(200);
  });

  it('refuses more node_matchers than maxNodeMatchers, naming the limit, and counts it', async () => {
    h = await startHarness();
    const matchers = Array.from({ length: DEFAULT_CSDS_LIMITS.maxNodeMatchers + 1 }, (_, i) => ({ node_id: { exact: `node-${i}` } }));
    await expect(fetchStatus(h.client(), { node_matchers: matchers })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('maxNodeMatchers (16)'),
    });
    expect(await rejected(h, 'csds_too_many_matchers')).toBe(1);
    // At the limit is fine.
    await expect(fetchStatus(h.client(), { node_matchers: matchers.slice(1) })).resolves.toEqual([]);
  });

  it('refuses a pattern longer than maxPatternBytes (in UTF-8 bytes), naming the limit, and counts it', async () => {
    h = await startHarness();
    const tooLong = [{ node_id: { safe_regex: { regex: 'a'.repeat(1025) } } }];
    await expect(fetchStatus(h.client(), { node_matchers: tooLong })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('maxPatternBytes (1024 bytes)'),
    });
    // 513 two-byte characters: 1026 bytes, on a literal matcher.
    await expect(fetchStatus(h.client(), { node_matchers: [{ node_id: { prefix: 'é'.repeat(513) } }] })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(await rejected(h, 'csds_pattern_too_long')).toBe(2);
    await expect(fetchStatus(h.client(), { node_matchers: [{ node_id: { prefix: 'é'.repeat(512) } }] })).resolves.toEqual([]);
  });

  it('takes the limits from XdsServerOptions.csdsLimits', async () => {
    h = await startHarness({ csdsLimits: { maxNodeMatchers: 1, maxPatternBytes: 4 } });
    await expect(fetchStatus(h.client(), { node_matchers: [{ node_id: { exact: 'a' } }, { node_id: { exact: 'b' } }] })).rejects.toMatchObject({
      details: expect.stringContaining('maxNodeMatchers (1)'),
    });
    await expect(fetchStatus(h.client(), { node_matchers: [{ node_id: { exact: 'abcde' } }] })).rejects.toMatchObject({ details: expect.stringContaining('maxPatternBytes (4 bytes)') });
  });
});

describe('nodeFilter with RE2', () => {
  const matches = (regex: string, id: string): boolean => nodeFilter({ node_matchers: [{ node_id: { safe_regex: { regex } } }] })(id);

  it('matches the whole id, as Envoy', () => {
    expect(matches('a|ab', 'ab')).toBe(true);
    expect(matches('web', 'web-1')).toBe(false);
    expect(matches('web-\\d+', 'web-12')).toBe(true);
    expect(matches('(?i)WEB-.*', 'web-1')).toBe(true);
  });

  it('refuses what RE2 does not accept (so no pattern can escape the whole-string match)', () => {
    for (const regex of ['a)|(b', '(?=a)a', '(a)\\1', 'a{1001}']) {
      expect(() => matches(regex, 'a'), regex).toThrow(/bad node_id regex/);
    }
  });

  it('keeps ignore_case for the literal matchers', () => {
    const select = nodeFilter({ node_matchers: [{ node_id: { prefix: 'WEB-', ignore_case: true } }, { node_id: { contains: 'DB', ignore_case: true } }] });
    expect(['web-1', 'main-db-2', 'cache'].filter(select)).toEqual(['web-1', 'main-db-2']);
  });
});

describe('CSDS answers for very large clients', () => {
  it('answers for a stream holding 150,000 names, with all of them, while the event loop keeps turning', async () => {
    // Far past the default per-stream limits, which an operator may raise.
    h = await startHarness({ limits: { maxNamesPerStream: 200_000, maxNamesPerPeer: 1_000_000, maxRequestBytes: 8 * 1024 * 1024 } });
    const many = names(150_000);
    await subscriber(h, 'huge', many);
    await subscriber(h, 'small', ['svc-1']);
    const client = bigClient(h);
    try {
      const { result, maxStallMs } = await watchingLoop(() => fetchRaw(client));
      const configs = decodeResponse(result);
      const huge = configs.find((c) => c.node?.id === 'huge')!;
      expect(huge.generic_xds_configs).toHaveLength(many.length);
      expect(new Set(huge.generic_xds_configs.map((g) => g.name))).toEqual(new Set(many));
      expect(huge.generic_xds_configs.every((g) => g.client_status === 'REQUESTED')).toBe(true);
      expect(configs.find((c) => c.node?.id === 'small')!.generic_xds_configs.map((g) => g.name)).toEqual(['svc-1']);
      // A whole-answer build of this size stalls the loop for far longer.
      expect(maxStallMs).toBeLessThan(500);
    } finally {
      client.close();
    }
  });

  it('refuses an answer past maxResponseBytes with RESOURCE_EXHAUSTED, and a narrower request still works', async () => {
    h = await startHarness({ csdsLimits: { maxResponseBytes: 4096 } });
    await subscriber(h, 'wide', names(500));
    await subscriber(h, 'narrow', ['svc-1']);
    await expect(fetchStatus(h.client())).rejects.toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/maxResponseBytes \(4096 bytes\).*narrow node_matchers/),
    });
    expect(await rejected(h, 'csds_response_too_large')).toBe(1);
    const narrow = await fetchStatus(h.client(), { node_matchers: [{ node_id: { exact: 'narrow' } }] });
    expect(narrow.map((c) => c.node?.id)).toEqual(['narrow']);
  });
});

describe('CSDS concurrency', () => {
  it('builds maxConcurrent answers at once, queues maxQueued, and refuses the rest with RESOURCE_EXHAUSTED', async () => {
    // sliceMs 0: every build pauses at each resource, so the first is still running when the others arrive.
    h = await startHarness({ csdsLimits: { maxConcurrent: 1, maxQueued: 1, sliceMs: 0 } });
    await subscriber(h, 'busy', names(2_000));
    const client = bigClient(h);
    try {
      const outcomes = await Promise.allSettled([fetchStatus(client), fetchStatus(client), fetchStatus(client)]);
      const answered = outcomes.filter((o): o is PromiseFulfilledResult<ClientConfig[]> => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(answered).toHaveLength(2);
      for (const o of answered) expect(o.value[0]!.generic_xds_configs).toHaveLength(2_000);
      expect(refused).toHaveLength(1);
      expect(refused[0]!.reason).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringContaining('maxConcurrent') });
      expect(await rejected(h, 'csds_busy')).toBe(1);
    } finally {
      client.close();
    }
  });
});

/** A stream CSDS can observe without a server: `pulled` counts the statuses read. */
function fakeStream(id: string, count: number): ObservedStream & { pulled: number } {
  const stream = {
    id,
    api: 'ads' as const,
    protocol: 'sotw' as const,
    peer: 'test',
    node: { id } as ObservedStream['node'],
    pulled: 0,
    declaredDependencies: undefined,
    nodeBytes: () => undefined,
    *resourceStatuses(): Generator<ResourceStatus> {
      for (let i = 0; i < count; i++) {
        stream.pulled += 1;
        yield { kind: 'endpoint', name: `svc-${i}`, version: '', clientStatus: 'REQUESTED', configStatus: 'NOT_SENT', updatedAtMs: 0, error: undefined };
      }
    },
  };
  return stream;
}

/** The fake calls below have no peer or metadata; these tests are about building answers, not access. */
const trustEveryone = accessGuard({ isLoopback: () => true });

describe('CSDS and callers that leave', () => {
  it('stops building for a caller that cancelled, and frees its place', async () => {
    const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
    const csds = csdsService(protos(), { logger: silentLogger(), metrics, limits: { maxConcurrent: 1, maxQueued: 0, sliceMs: 0 }, access: trustEveryone });
    const big = fakeStream('big', 100_000);
    csds.observer.opened!(big);
    const fetch = (call: EventEmitter & { request: object; cancelled: boolean }) =>
      new Promise<{ err: Partial<grpc.StatusObject> | null; value: Buffer | null | undefined }>((resolve) =>
        (csds.handlers.FetchClientStatus as grpc.handleUnaryCall<object, Buffer>)(call as never, (err, value) => resolve({ err: err as Partial<grpc.StatusObject> | null, value })),
      );
    const first = Object.assign(new EventEmitter(), { request: {}, cancelled: false });
    const firstAnswer = fetch(first);
    await until(() => big.pulled > 10, 5_000, 'the build under way');
    first.cancelled = true;
    first.emit('cancelled');
    expect((await firstAnswer).err).toMatchObject({ code: grpc.status.CANCELLED });
    const pulledWhenStopped = big.pulled;
    expect(pulledWhenStopped).toBeLessThan(100_000);
    // The place is free again (no queue: a build still running would refuse this one), and the abandoned walk stays stopped.
    csds.observer.closed!(big);
    const second = await fetch(Object.assign(new EventEmitter(), { request: {}, cancelled: false }));
    expect(second.err).toBeNull();
    expect(big.pulled).toBe(pulledWhenStopped);
  });

  it('answers an undecodable request with INVALID_ARGUMENT', async () => {
    const metrics = new HeraldMetrics({ registry: new Registry(), defaultMetrics: false });
    const csds = csdsService(protos(), { logger: silentLogger(), metrics, access: trustEveryone });
    const err = await new Promise<Partial<grpc.StatusObject> | null>((resolve) =>
      (csds.handlers.FetchClientStatus as grpc.handleUnaryCall<object, Buffer>)(
        Object.assign(new EventEmitter(), { request: { undecodable: 'truncated' }, cancelled: false }) as never,
        (e) => resolve(e as Partial<grpc.StatusObject> | null),
      ),
    );
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  });
});

describe('WorkGate', () => {
  it('runs up to its limit, queues in order, refuses past the queue, and lets a waiter leave', async () => {
    const gate = new WorkGate(1, 2);
    const a = gate.enter()!;
    const b = gate.enter()!;
    const c = gate.enter()!;
    expect(gate.enter()).toBeUndefined();
    expect(await a.turn).toBe(true);
    expect([gate.running, gate.waiting]).toEqual([1, 2]);
    b.leave();
    expect(await b.turn).toBe(false);
    a.leave();
    a.leave();
    expect(await c.turn).toBe(true);
    expect([gate.running, gate.waiting]).toEqual([1, 0]);
    c.leave();
    expect([gate.running, gate.waiting]).toEqual([0, 0]);
  });
});

describe('csdsLimits', () => {
  it('applies overrides to the defaults and refuses nonsense', () => {
    expect(csdsLimits({ maxQueued: 0 })).toEqual({ ...DEFAULT_CSDS_LIMITS, maxQueued: 0 });
    expect(() => csdsLimits({ maxConcurrent: 0 })).toThrow(/maxConcurrent/);
    expect(() => csdsLimits({ maxResponseBytes: 2 ** 32 })).toThrow(/maxResponseBytes/);
    expect(() => csdsLimits({ maxNodeMatchers: 1.5 })).toThrow(/maxNodeMatchers/);
  });
});
