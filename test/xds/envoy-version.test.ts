import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/telemetry/index.js';
import { startHarness, until, type Harness } from './helpers.js';

interface LogLine {
  level: number;
  msg: string;
  node?: string;
  envoyVersion?: string;
  minimum?: string;
}

const WARN = 40;

function recordingLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  return { lines, logger };
}

function envoyNode(id: string, version?: [number, number, number]): Record<string, unknown> {
  return {
    id,
    cluster: 'shop',
    user_agent_name: 'envoy',
    ...(version ? { user_agent_build_version: { version: { major_number: version[0], minor_number: version[1], patch: version[2] } } } : {}),
  };
}

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function bySupport(h: Harness): Promise<Record<string, number>> {
  const { values } = await h.metrics.xdsEnvoyStreams.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.support), v.value]));
}

describe('Envoy versions through the xDS server', () => {
  it('counts an old Envoy and warns once per node id; a new one is counted and not warned about', async () => {
    const { lines, logger } = recordingLogger();
    const h = (harness = await startHarness({ logger }));
    h.put('cluster', 'shop', 'v1');
    const oldWarnings = () => lines.filter((l) => l.level === WARN && l.node === 'old-envoy');

    expect(await bySupport(h)).toEqual({ ok: 0, old: 0, unknown: 0 });

    const old1 = h.stream();
    old1.request('cluster', { node: envoyNode('old-envoy', [1, 28, 7]) });
    const first = await old1.next();
    // The ACK carries the Node again (Envoy sends it on every request unless told otherwise): not a second count.
    old1.request('cluster', { node: envoyNode('old-envoy', [1, 28, 7]), version_info: first.version_info, response_nonce: first.nonce });
    await until(() => oldWarnings().length > 0, 5_000, 'the old-Envoy warning');
    expect(oldWarnings()).toEqual([expect.objectContaining({ envoyVersion: '1.28.7', minimum: '1.30.0' })]);
    expect(oldWarnings()[0]!.msg).toMatch(/DRAINING/);

    // The same Envoy reconnecting (a second stream, same node id): counted again, not warned again.
    const old2 = h.stream();
    old2.request('cluster', { node: envoyNode('old-envoy', [1, 28, 7]) });
    await old2.next();

    const fresh = h.stream();
    fresh.request('cluster', { node: envoyNode('new-envoy', [1, 33, 2]) });
    await fresh.next();
    const unversioned = h.stream();
    unversioned.request('cluster', { node: envoyNode('mystery-envoy') });
    await unversioned.next();
    const grpc = h.stream();
    grpc.request('cluster', { node: { id: 'grpc-client', user_agent_name: 'gRPC Go', user_agent_version: '1.20.0' } });
    await grpc.next();

    // Another old node id from the same address: counted, but its log line is held back (a client
    // choosing a fresh node id per stream must not buy a line each).
    const renamed = h.stream();
    renamed.request('cluster', { node: envoyNode('old-envoy-renamed', [1, 29, 3]) });
    await renamed.next();
    expect((await bySupport(h)).old).toBe(3);
    renamed.cancel();
    await expect.poll(() => bySupport(h), { timeout: 5_000 }).toEqual({ ok: 1, old: 2, unknown: 1 });
    // /debug/clients shows each stream's version and, for Envoys, the verdict.
    const shown = h.server
      .clients()
      .map((c) => [c.node?.id, c.node?.userAgentVersion, c.envoySupport])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(shown).toEqual([
      ['grpc-client', '1.20.0', undefined],
      ['mystery-envoy', undefined, 'unknown'],
      ['new-envoy', '1.33.2', 'ok'],
      ['old-envoy', '1.28.7', 'old'],
      ['old-envoy', '1.28.7', 'old'],
    ]);
    expect(oldWarnings()).toHaveLength(1);
    expect(lines.filter((l) => l.level === WARN && l.node !== 'old-envoy')).toEqual([]);

    // Closed streams leave the gauge.
    old1.cancel();
    old2.cancel();
    unversioned.cancel();
    await expect.poll(() => bySupport(h), { timeout: 5_000 }).toEqual({ ok: 1, old: 0, unknown: 0 });
    fresh.cancel();
    grpc.cancel();
    await expect.poll(() => bySupport(h), { timeout: 5_000 }).toEqual({ ok: 0, old: 0, unknown: 0 });
  });
});
