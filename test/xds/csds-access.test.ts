// CSDS hands out every client's Node, metadata included, so it answers trusted callers only:
// loopback ones, or those presenting the admin token. Remote callers are played by a guard
// that calls every address remote (the real loopback check is tabled in test/access).
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { accessGuard } from '../../src/access/index.js';
import { protos, startHarness, until, type Harness } from './helpers.js';

const SERVICE = '/envoy.service.status.v3.ClientStatusDiscoveryService';
const TOKEN = 'csds-token-7';
const SECRET = 'planted-secret-value';

const request = (): Buffer => {
  const Request = protos().lookupType('envoy.service.status.v3.ClientStatusRequest');
  return Buffer.from(Request.encode(Request.fromObject({})).finish());
};

function nodeIds(bytes: Buffer): string[] {
  const Response = protos().lookupType('envoy.service.status.v3.ClientStatusResponse');
  const raw = Response.toObject(Response.decode(bytes), { defaults: true }) as { config: { node: { id: string } | null }[] };
  return raw.config.map((c) => c.node?.id ?? '');
}

function fetch(h: Harness, authorization?: string): Promise<{ err: grpc.ServiceError | null; bytes: Buffer | undefined }> {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return new Promise((resolve) => {
    h.client().makeUnaryRequest(
      `${SERVICE}/FetchClientStatus`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      request(),
      metadata,
      (err, value) => resolve({ err, bytes: value }),
    );
  });
}

async function refused(h: Harness): Promise<Record<string, number>> {
  const values = (await h.metrics.csdsRequestsRefused.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

/** One ADS client whose Node carries a secret in its metadata, as the attacker planted. */
async function withClient(h: Harness): Promise<void> {
  h.put('cluster', 'a', 'v1');
  const stream = h.stream();
  stream.request('cluster', { node: { id: 'sidecar-1.shop', metadata: { fields: { planted: { stringValue: SECRET } } } } });
  await stream.next();
  await until(() => h.server.clients().length === 1, 5_000, 'the client connected');
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('CSDS access', () => {
  const remote = accessGuard({ isLoopback: () => false, token: () => TOKEN });

  it('answers a loopback caller without credentials (the default guard)', async () => {
    h = await startHarness();
    await withClient(h);
    const { err, bytes } = await fetch(h);
    expect(err).toBeNull();
    expect(nodeIds(bytes!)).toEqual(['sidecar-1.shop']);
  });

  it('refuses a remote caller without credentials with UNAUTHENTICATED, revealing nothing', async () => {
    h = await startHarness({ csdsAccess: remote });
    await withClient(h);
    const { err, bytes } = await fetch(h);
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err?.details).toMatch(/port-forward/);
    expect(err?.details).not.toContain(SECRET);
    expect(bytes).toBeUndefined();
    expect(await refused(h)).toEqual({ no_credentials: 1 });
  });

  it('refuses a wrong token with PERMISSION_DENIED and another scheme with UNAUTHENTICATED', async () => {
    h = await startHarness({ csdsAccess: remote });
    await withClient(h);
    expect((await fetch(h, 'Bearer csds-token-8')).err?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await fetch(h, `Basic ${TOKEN}`)).err?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await refused(h)).toEqual({ bad_token: 1, malformed_credentials: 1 });
  });

  it('answers a remote caller that presents the token', async () => {
    h = await startHarness({ csdsAccess: remote });
    await withClient(h);
    const { err, bytes } = await fetch(h, `Bearer ${TOKEN}`);
    expect(err).toBeNull();
    expect(nodeIds(bytes!)).toEqual(['sidecar-1.shop']);
    expect(await refused(h)).toEqual({});
  });

  it('ends an untrusted StreamClientStatus before reading anything', async () => {
    h = await startHarness({ csdsAccess: remote });
    await withClient(h);
    const call = h.client().makeBidiStreamRequest(
      `${SERVICE}/StreamClientStatus`,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const answers: Buffer[] = [];
    call.on('data', (b: Buffer) => answers.push(b));
    const status = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.write(request());
    expect((await status).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(answers).toEqual([]);

    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${TOKEN}`);
    const trusted = h.client().makeBidiStreamRequest(
      `${SERVICE}/StreamClientStatus`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      metadata,
    );
    const first = new Promise<Buffer>((resolve, reject) => {
      trusted.on('data', resolve);
      trusted.on('error', reject);
    });
    trusted.write(request());
    expect(nodeIds(await first)).toEqual(['sidecar-1.shop']);
    trusted.cancel();
  });
});
