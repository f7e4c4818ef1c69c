import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { CDS_URL, EDS_URL, eventually } from './envoy-like.js';
import { ECHO_IPS, expectServingWell, startHerald, type Herald } from './harness.js';

let herald: Herald | undefined;
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
});

const NODE = (id: string) => ({ id, cluster: 'conformance' });

/** The adversarial sequences again, over Delta ADS. */
describe('abusive Delta clients', () => {
  it('a subscription on a stale nonce is honoured; the stale ACK is counted and ignored', async () => {
    herald = await startHerald();
    const delta = herald.deltaEnvoy('delta-stale', undefined, true);
    delta.send({ node: NODE('delta-stale'), type_url: EDS_URL, resource_names_subscribe: ['billing'] });
    await eventually(() => delta.responses.length === 1, 'the answer to the first subscription');
    // 'billing' does not exist: the answer says so.
    expect(delta.responses[0]!.removed).toEqual(['billing']);
    delta.send({ type_url: EDS_URL, response_nonce: 'stale-nonce', resource_names_subscribe: ['echo'] });
    await expect.poll(() => herald!.metric('herald_xds_stale_nonces_total', { type: 'endpoint' })).toBe(1);
    expect(delta.responses).toHaveLength(1);
    // The real ACK names nothing new, yet echo follows: the stale request's subscription stuck.
    delta.send({ type_url: EDS_URL, response_nonce: delta.responses[0]!.nonce });
    await eventually(() => delta.responses.length === 2, 'echo after the ACK');
    expect(delta.responses[1]!.resources.map((r) => r.name)).toEqual(['echo']);
    await expectServingWell(herald);
  });

  it('a NACKed resource is not re-sent until it changes', async () => {
    herald = await startHerald();
    const delta = herald.deltaEnvoy('delta-nacker', undefined, true);
    delta.send({ node: NODE('delta-nacker'), type_url: EDS_URL, resource_names_subscribe: ['echo'] });
    await eventually(() => delta.responses.length === 1, 'echo');
    const first = delta.responses[0]!;
    delta.send({ type_url: EDS_URL, response_nonce: first.nonce, error_detail: { code: 3, message: 'delta says no' } });
    await expect.poll(() => herald!.metric('herald_xds_nacks_total', { type: 'endpoint' })).toBe(1);
    // Subscribing to something else brings only that; echo is not repeated.
    delta.send({ type_url: EDS_URL, response_nonce: first.nonce, resource_names_subscribe: ['missing'] });
    await eventually(() => delta.responses.length === 2, 'the answer about missing');
    expect(delta.responses[1]!.resources).toEqual([]);
    expect(delta.responses[1]!.removed).toEqual(['missing']);
    delta.send({ type_url: EDS_URL, response_nonce: delta.responses[1]!.nonce });
    await expectServingWell(herald);
    // The drain changed echo: it is sent again.
    expect(delta.responses.slice(2).some((r) => r.resources.some((x) => x.name === 'echo'))).toBe(true);
  });

  it('a client that never ACKs gets one response and then the newest state once it does', async () => {
    herald = await startHerald();
    const silent = herald.deltaEnvoy('delta-silent', undefined, true);
    silent.send({ node: NODE('delta-silent'), type_url: EDS_URL, resource_names_subscribe: ['echo'] });
    await eventually(() => silent.responses.length === 1, 'echo');
    await expectServingWell(herald);
    await expectServingWell(herald);
    expect(silent.responses).toHaveLength(1);
    silent.send({ type_url: EDS_URL, response_nonce: silent.responses[0]!.nonce });
    await eventually(() => silent.responses.length === 2, 'the coalesced update');
    const ips = silent.responses[1]!.resources[0]!.assignment!.endpoints.map((e) => e.address).sort();
    expect(ips).toEqual(ECHO_IPS.slice(2));
  });

  it('undecodable Delta requests end the stream with INVALID_ARGUMENT and are counted', async () => {
    herald = await startHerald();
    const delta = herald.deltaEnvoy('delta-garbage', undefined, true);
    delta.writeRaw(Buffer.from([0x7f, 0x01]));
    await eventually(() => delta.status !== undefined, 'the stream to end');
    expect(delta.status!.code).toBe(grpc.status.INVALID_ARGUMENT);
    await expect.poll(() => herald!.metric('herald_xds_rejected_requests_total', { reason: 'undecodable' })).toBe(1);
    await expectServingWell(herald);
  });

  it('subscribing to 50,000 names, under a raised --max-names-per-stream, gets the one that exists and each missing name reported once', async () => {
    herald = await startHerald({ limits: { maxNamesPerStream: 60_000 } });
    const greedy = herald.deltaEnvoy('delta-greedy', undefined, true);
    const names = Array.from({ length: 50_000 }, (_, i) => `service-${i}`);
    greedy.send({ node: NODE('delta-greedy'), type_url: CDS_URL });
    greedy.send({ type_url: EDS_URL, resource_names_subscribe: [...names, 'echo'] });
    await eventually(() => greedy.responses.some((r) => r.typeUrl === EDS_URL), 'an EDS answer', 20_000);
    const first = greedy.responses.find((r) => r.typeUrl === EDS_URL)!;
    expect(first.resources.map((r) => r.name)).toEqual(['echo']);
    // Every missing name is reported once, in the same answer.
    expect(new Set(first.removed)).toEqual(new Set(names));
    greedy.send({ type_url: EDS_URL, response_nonce: first.nonce });
    await expectServingWell(herald);
    // Later answers carry the changed assignment only, not the 50,000 names again.
    await eventually(() => greedy.responses.filter((r) => r.typeUrl === EDS_URL).length >= 2, 'the drain at the greedy stream');
    const second = greedy.responses.filter((r) => r.typeUrl === EDS_URL)[1]!;
    expect(second.resources.map((r) => r.name)).toEqual(['echo']);
    expect(second.removed).toEqual([]);
  });
});
