import { afterEach, describe, expect, it } from 'vitest';
import { CDS_URL, EDS_URL, eventually } from './envoy-like.js';
import { makePod } from '../helpers/manual-source.js';
import { ECHO_IPS, expectServingWell, startHerald, synced, type Herald } from './harness.js';

let herald: Herald | undefined;
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
});

/** Protocol sequences an Envoy really goes through, and their misuse, against a real Herald. */
describe('Envoy-shaped sequences', () => {
  it('CDS wildcard, then EDS for each cluster, everything ACKed, a drain arrives', async () => {
    herald = await startHerald({ services: ['echo', 'billing'] });
    const envoy = herald.envoy({ nodeId: 'sidecar-1' });
    await synced(envoy);
    await synced(envoy, 'billing');
    const cds = envoy.responsesOf(CDS_URL);
    expect(cds[0]!.names.sort()).toEqual(['billing', 'echo']);
    // ADS order: the clusters came before any assignment.
    expect(envoy.responses[0]!.typeUrl).toBe(CDS_URL);
    expect(new Set(envoy.responses.map((r) => r.nonce)).size).toBe(envoy.responses.length);
    expect(
      envoy.assignments
        .get('echo')!
        .endpoints.map((e) => e.address)
        .sort(),
    ).toEqual(ECHO_IPS);
    const before = envoy.responsesOf(EDS_URL).length;
    await expectServingWell(herald);
    // The first Envoy got the drain too, each update as the one changed assignment, not the whole mesh.
    await eventually(() => envoy.healthOf('echo', ECHO_IPS[0]!) === undefined, 'removal at the first Envoy');
    const updates = envoy.responsesOf(EDS_URL).slice(before);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((r) => r.names.join() === 'echo')).toBe(true);
    expect(await herald.metric('herald_xds_nacks_total')).toBe(0);
  });

  it('stale nonces get no answer and are counted; the stream goes on', async () => {
    herald = await startHerald();
    const envoy = herald.envoy({ nodeId: 'stale', manual: true });
    envoy.send({ type_url: CDS_URL, resource_names: [] });
    await eventually(() => envoy.responses.length === 1, 'first CDS response');
    const first = envoy.responses[0]!;
    envoy.send({ type_url: CDS_URL, version_info: first.version, response_nonce: 'not-a-nonce-we-sent', resource_names: [] });
    envoy.send({ type_url: CDS_URL, version_info: first.version, response_nonce: `${first.nonce}0`, resource_names: ['*'] });
    await expect.poll(() => herald!.metric('herald_xds_stale_nonces_total', { type: 'cluster' }), { timeout: 5_000 }).toBe(2);
    // Requests are handled in order, so had a stale one been answered, that answer would be the
    // next response; instead the next one is the update that follows the real ACK.
    envoy.send({ type_url: CDS_URL, version_info: first.version, response_nonce: first.nonce, resource_names: [] });
    herald.source.apply(makePod({ cluster: 'east', name: 'billing-0', service: 'billing', ip: '10.9.0.1' }));
    await eventually(() => envoy.responses.length >= 2, 'CDS update after the ACK');
    expect(envoy.responses.map((r) => r.names.sort().join(','))).toEqual(['echo', 'billing,echo']);
    await expectServingWell(herald);
  });

  it('a NACKed version is not re-sent until the resource changes, then it is', async () => {
    herald = await startHerald();
    const rejected = new Set<string>();
    const envoy = herald.envoy({
      nodeId: 'nacker',
      // Rejects its first CDS and its first assignment, like an Envoy that fails validation.
      nack: (r) => {
        if (rejected.has(r.typeUrl)) return undefined;
        rejected.add(r.typeUrl);
        return `rejected ${r.typeUrl === CDS_URL ? 'clusters' : 'endpoints'} ${r.version}`;
      },
    });
    await eventually(() => envoy.responses.length === 1, 'first CDS');
    expect(envoy.responses[0]!.answer).toBe('nack');
    await expect.poll(() => herald!.metric('herald_xds_nacks_total', { type: 'cluster' })).toBe(1);
    // The NACKed CDS is not sent again; the next CDS is the one a new service brings.
    herald.source.apply(makePod({ cluster: 'east', name: 'billing-0', service: 'billing', ip: '10.9.0.1' }));
    await eventually(() => envoy.responsesOf(CDS_URL).length === 2, 'CDS after the change');
    expect(envoy.responsesOf(CDS_URL)[1]!.names.sort()).toEqual(['billing', 'echo']);
    expect(envoy.responsesOf(CDS_URL)[1]!.answer).toBe('ack');

    await eventually(() => envoy.responsesOf(EDS_URL).length === 1, 'first EDS');
    expect(envoy.responsesOf(EDS_URL)[0]).toMatchObject({ answer: 'nack' });
    await expect.poll(() => herald!.metric('herald_xds_nacks_total', { type: 'endpoint' })).toBe(1);
    const clients = herald.daemon.xds.clients().filter((c) => c.node?.id === 'nacker');
    expect(clients[0]!.types.endpoint!.lastNack!.message).toMatch(/^rejected endpoints/);
    // A second service appears: its assignment is sent, the NACKed ones are not repeated.
    herald.source.apply(makePod({ cluster: 'east', name: 'cart-0', service: 'cart', ip: '10.9.0.2' }));
    await eventually(() => envoy.responsesOf(EDS_URL).some((r) => r.names.includes('cart')), 'cart assignment');
    expect(
      envoy
        .responsesOf(EDS_URL)
        .slice(1)
        .flatMap((r) => r.names),
    ).toEqual(['cart']);
    // A drain changes echo: now it is re-sent, and accepted.
    await expectServingWell(herald);
    await eventually(() => envoy.healthOf('echo', ECHO_IPS[0]!) === undefined && envoy.assignments.has('echo'), 'echo re-sent after the change');
  });

  it('re-subscribing gets the current resources again, even with unchanged versions', async () => {
    herald = await startHerald();
    const envoy = herald.envoy({ nodeId: 'resub', manual: true });
    envoy.send({ type_url: EDS_URL, resource_names: ['echo'] });
    await eventually(() => envoy.responses.length === 1, 'echo assignment');
    const first = envoy.responses[0]!;
    expect(first.names).toEqual(['echo']);
    // Unsubscribe (ACK with no names), then subscribe again with the same nonce: answered anew.
    envoy.send({ type_url: EDS_URL, version_info: first.version, response_nonce: first.nonce, resource_names: [] });
    envoy.send({ type_url: EDS_URL, version_info: first.version, response_nonce: first.nonce, resource_names: ['echo', 'no-such-service'] });
    await eventually(() => envoy.responses.length === 2, 'echo again after re-subscribing');
    expect(envoy.responses[1]).toMatchObject({ names: ['echo'], version: first.version });
    // Narrowing to a name that does not exist, then back, works the same way.
    const second = envoy.responses[1]!;
    envoy.send({ type_url: EDS_URL, version_info: second.version, response_nonce: second.nonce, resource_names: ['no-such-service'] });
    envoy.send({ type_url: EDS_URL, version_info: second.version, response_nonce: second.nonce, resource_names: ['echo'] });
    await eventually(() => envoy.responses.length === 3, 'echo a third time');
    expect(envoy.responses[2]!.names).toEqual(['echo']);
    await expectServingWell(herald);
  });

  it('a reconnecting Envoy with an old or unknown version gets the full current state', async () => {
    herald = await startHerald();
    const before = herald.envoy({ nodeId: 'reconnecting' });
    await synced(before);
    const oldCds = before.accepted.cds;
    const oldEds = before.accepted.eds;
    before.close();
    // Something changes while it is away.
    herald.source.update('default/echo-5', { terminating: true });
    for (const [id, version] of [
      ['same-version', oldCds],
      ['unknown-version', 'v-from-another-replica-999'],
    ] as const) {
      const envoy = herald.envoy({ nodeId: id, manual: true });
      // After a reconnect Envoy sends its last accepted versions with empty nonces.
      envoy.send({ type_url: CDS_URL, version_info: version, resource_names: [] });
      envoy.send({ type_url: EDS_URL, version_info: oldEds, resource_names: ['echo'] });
      await eventually(() => envoy.responsesOf(CDS_URL).length === 1 && envoy.responsesOf(EDS_URL).length === 1, `${id}: CDS and EDS answered`);
      const eds = envoy.responsesOf(EDS_URL)[0]!;
      expect(eds.assignments[0]!.endpoints.find((e) => e.address === ECHO_IPS[5])?.health).toBe('DRAINING');
    }
    await expectServingWell(herald);
  });

  it('unknown and unserved type URLs are ignored and counted; the stream keeps working', async () => {
    herald = await startHerald();
    const envoy = herald.envoy({ nodeId: 'odd-types', manual: true });
    envoy.send({ type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret', resource_names: ['cert'] });
    envoy.send({ type_url: 'type.googleapis.com/not.a.Type', resource_names: [] });
    envoy.send({ type_url: '', resource_names: [] });
    envoy.send({ type_url: 'x'.repeat(100_000), resource_names: [] });
    envoy.send({ type_url: CDS_URL, resource_names: [] });
    await eventually(() => envoy.responses.length === 1, 'CDS after the odd requests');
    expect(envoy.responses[0]!.typeUrl).toBe(CDS_URL);
    await expect.poll(() => herald!.metric('herald_xds_rejected_requests_total', { reason: 'unknown_type_url' })).toBe(4);

    // A per-type service asked for another type.
    const cdsOnly = herald.envoy({ nodeId: 'cds-only', manual: true, path: '/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters' });
    cdsOnly.send({ type_url: EDS_URL, resource_names: ['echo'] });
    cdsOnly.send({ type_url: CDS_URL, resource_names: [] });
    await eventually(() => cdsOnly.responses.length === 1, 'CDS on the CDS service');
    expect(cdsOnly.responses[0]!.typeUrl).toBe(CDS_URL);
    await expect.poll(() => herald!.metric('herald_xds_rejected_requests_total', { reason: 'type_not_served' })).toBe(1);
    await expectServingWell(herald);
  });

  it('a client that never ACKs gets one response per type and holds nobody up', async () => {
    herald = await startHerald();
    const silent = herald.envoy({ nodeId: 'never-acks', manual: true });
    silent.send({ type_url: CDS_URL, resource_names: [] });
    silent.send({ type_url: EDS_URL, resource_names: ['echo'] });
    await eventually(() => silent.responses.length === 2, 'one CDS and one EDS');
    await expectServingWell(herald);
    await expectServingWell(herald);
    // Two drains and two removals later it still has exactly its first two responses, and
    // /debug/clients shows it behind.
    expect(silent.responses.map((r) => r.typeUrl)).toEqual([CDS_URL, EDS_URL]);
    const info = herald.daemon.xds.clients().find((c) => c.node?.id === 'never-acks')!;
    expect(info.types.endpoint).toMatchObject({ pending: true, dirty: true });
    // When it finally ACKs, it gets the newest state in one response.
    const eds = silent.responses[1]!;
    silent.send({ type_url: EDS_URL, version_info: eds.version, response_nonce: eds.nonce, resource_names: ['echo'] });
    await eventually(() => silent.responses.length === 3, 'the coalesced update');
    const ips = silent.responses[2]!.assignments[0]!.endpoints.map((e) => e.address);
    expect(ips.sort()).toEqual(ECHO_IPS.slice(2));
  });

  it('the same Envoy over Delta ADS: wildcard CDS, EDS per cluster, one resource per drain, reconnect sends only what differs', async () => {
    herald = await startHerald({ services: ['echo', 'billing'] });
    const delta = herald.deltaEnvoy('delta-sidecar');
    await eventually(() => delta.assignments.has('echo') && delta.assignments.has('billing'), 'both assignments over Delta');
    expect([...delta.clusters.keys()].sort()).toEqual(['billing', 'echo']);
    expect(delta.responses[0]!.typeUrl).toBe(CDS_URL);
    const before = delta.responsesOf(EDS_URL).length;
    await expectServingWell(herald);
    await eventually(() => delta.healthOf('echo', ECHO_IPS[0]!) === undefined, 'removal over Delta');
    const updates = delta.responsesOf(EDS_URL).slice(before);
    expect(updates.length).toBeGreaterThan(0);
    for (const update of updates) expect(update.resources.map((r) => r.name)).toEqual(['echo']);

    // Reconnect, reporting what it holds: only what changed meanwhile comes back.
    const held = { cds: Object.fromEntries(delta.versions.cds), eds: Object.fromEntries(delta.versions.eds) };
    delta.close();
    herald.source.update('default/echo-5', { terminating: true });
    const again = herald.deltaEnvoy('delta-sidecar', held);
    await eventually(() => again.healthOf('echo', ECHO_IPS[5]!) === 'DRAINING', 'the changed assignment after reconnect');
    // Clusters did not change: none is sent again (the CDS answer may be empty or absent).
    expect(again.responsesOf(CDS_URL).flatMap((r) => r.resources.map((x) => x.name))).toEqual([]);
    // Only the assignment that changed is sent; billing's is already held.
    expect(again.responsesOf(EDS_URL).flatMap((r) => r.resources.map((x) => x.name))).toEqual(['echo']);
  });
});
