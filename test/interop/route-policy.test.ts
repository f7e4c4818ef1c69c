// What each proxyless client does with a ServicePolicy's retries and timeout, observed on real
// RPCs. The backend fails every first attempt with UNAVAILABLE and answers a retry (gRPC marks
// one with the grpc-previous-rpc-attempts header, gRFC A6): without retries every call fails;
// retrying on `unavailable` makes every call succeed in two attempts; retrying on HTTP conditions
// only (`5xx`, `reset`) changes nothing for gRPC clients (gRFC A44). Then the backend answers
// after 2 s: calls with a 5 s deadline succeed, and a policy timeout of 300 ms (served as
// max_stream_duration, gRFC A31) makes them fail with DEADLINE_EXCEEDED.
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { Daemon } from '../../src/app/index.js';
import type { RoutesPolicy } from '../../src/model/index.js';
import { startEchoBackend, type CallBehaviour, type EchoBackend } from '../helpers/echo-backend.js';
import { ManualPolicySource } from '../helpers/manual-policy-source.js';
import { makePod, ManualSource } from '../helpers/manual-source.js';
import { PROXYLESS_CLIENTS } from './probe-clients.js';
import { expectNoNacks } from './nacks.js';
import { clientSettled, startPolicyDaemon, startPolicyProbe } from './policy-mesh.js';
import { probeSuite } from './suite.js';
import type { XdsProbe } from './xds-probe.js';

const CALLS = 20;

PROXYLESS_CLIENTS.forEach((client, index) => {
  const ip = `127.0.${70 + index}.1`;
  const nodeId = `${client.name}-route-policy`;

  probeSuite(`${client.name}: ServicePolicy retries and timeout on real RPCs`, client, (launch) => {
    let backend: EchoBackend;
    let daemon: Daemon;
    let policies: ManualPolicySource;
    let probe: XdsProbe;
    let generation = 0;
    let mode: 'fail-first-attempt' | 'slow' = 'fail-first-attempt';

    const behave = (metadata: grpc.Metadata): CallBehaviour | undefined => {
      if (mode === 'slow') return { delayMs: 2_000 };
      return metadata.get('grpc-previous-rpc-attempts').length === 0 ? { fail: grpc.status.UNAVAILABLE } : undefined;
    };

    beforeAll(async () => {
      backend = await startEchoBackend('api-0', ip, behave);
      const source = new ManualSource('kube-a', {
        pods: [makePod({ cluster: 'kube-a', name: 'api-0', namespace: 'shop', service: 'api.shop', serviceLabel: 'api', ip, port: backend.port, nodeName: 'kube-a-node' })],
        nodes: [{ cluster: 'kube-a', name: 'kube-a-node', region: 'r1', zone: 'z1' }],
      });
      policies = new ManualPolicySource('kube-a');
      daemon = await startPolicyDaemon([source], policies);
      probe = await startPolicyProbe(daemon, launch, client.name, 'xds:///api.shop', nodeId);
    }, 120_000);

    afterAll(async () => {
      await probe?.close();
      await daemon?.stop(1_000);
      await backend?.stop();
    });

    async function setRoutes(routes: RoutesPolicy | undefined): Promise<void> {
      policies.apply({ cluster: 'kube-a', namespace: 'shop', name: 'api', generation: ++generation, spec: routes === undefined ? {} : { routes } });
      await clientSettled(daemon, nodeId, () => `probe stderr: ${probe.stderr}`);
    }

    /** CALLS calls: how many failed, and how many attempts reached the backend. */
    async function calls(n = CALLS): Promise<{ errors: number; attempts: number; lastError: string | undefined }> {
      const before = backend.calls;
      const report = await probe.call(n);
      return { errors: report.errors, attempts: backend.calls - before, lastError: report.lastError };
    }

    it('without retries, every call fails on its first attempt', async () => {
      // The channel is up (a call reached the backend) before anything is counted.
      for (let i = 0; i < 50 && backend.calls === 0; i++) await probe.call(1);
      const got = await calls();
      expect({ errors: got.errors, attempts: got.attempts }).toEqual({ errors: CALLS, attempts: CALLS });
    });

    it('retryOn unavailable: every call succeeds on its second attempt', async () => {
      await setRoutes({ retries: { attempts: 2, retryOn: ['unavailable'], backoff: { baseIntervalMs: 5, maxIntervalMs: 5 } } });
      const got = await calls();
      expect({ errors: got.errors, attempts: got.attempts, lastError: got.lastError }).toEqual({ errors: 0, attempts: 2 * CALLS, lastError: undefined });
    });

    it('retryOn with HTTP conditions only: gRPC clients do not retry', async () => {
      await setRoutes({ retries: { attempts: 2, retryOn: ['5xx', 'reset', 'connect-failure'] } });
      const got = await calls();
      expect({ errors: got.errors, attempts: got.attempts }).toEqual({ errors: CALLS, attempts: CALLS });
    });

    it("timeoutMs bounds every call's duration, below the call's own deadline", async () => {
      mode = 'slow';
      await setRoutes(undefined);
      const unbounded = await calls(2);
      expect(unbounded.errors).toBe(0);
      await setRoutes({ timeoutMs: 300 });
      const bounded = await calls(3);
      expect(bounded.errors).toBe(3);
      expect(bounded.lastError ?? '').toMatch(/deadline|DEADLINE_EXCEEDED|Deadline/i);
    });

    it(`was never NACKed by ${client.name}`, () => {
      const streams = daemon.xds.clients().filter((c) => c.node?.id === nodeId);
      expect(streams.length).toBeGreaterThanOrEqual(1);
      expectNoNacks(streams);
    });
  });
});
