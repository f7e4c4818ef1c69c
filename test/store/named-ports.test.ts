// A pod's named container ports reach its endpoint, and a change of them alone is a change of
// the service (healthCheck.portName resolves against them when the assignment is built).
import { describe, expect, it } from 'vitest';
import { sameNamedPorts, type NamedPorts } from '../../src/model/index.js';
import { samePod } from '../../src/store/indexes.js';
import { sameEndpoint } from '../../src/store/service-view.js';
import { harnessPerTest } from './helpers.js';
import { pod } from './fixtures.js';

const make = harnessPerTest();

describe('sameNamedPorts', () => {
  const cases: Array<[string, NamedPorts | undefined, NamedPorts | undefined, boolean]> = [
    ['both absent', undefined, undefined, true],
    ['one absent', { http: 8080 }, undefined, false],
    ['the other absent', undefined, { http: 8080 }, false],
    ['equal copies', { http: 8080, health: 8081 }, { http: 8080, health: 8081 }, true],
    ['a number changed', { http: 8080, health: 8081 }, { http: 8080, health: 9091 }, false],
    ['a name changed', { http: 8080, health: 8081 }, { http: 8080, healthz: 8081 }, false],
    ['a name added', { http: 8080 }, { http: 8080, health: 8081 }, false],
    ['a name removed', { http: 8080, health: 8081 }, { http: 8080 }, false],
    ['the same names in another order', { http: 8080, health: 8081 }, { health: 8081, http: 8080 }, false],
  ];
  it.each(cases)('%s', (_title, a, b, want) => {
    expect(sameNamedPorts(a, b)).toBe(want);
    expect(sameNamedPorts(b, a)).toBe(want);
  });

  it('samePod and sameEndpoint follow it', () => {
    const a = pod({ namedPorts: { http: 8080, health: 8081 } });
    expect(samePod(a, { ...a, namedPorts: { http: 8080, health: 8081 } })).toBe(true);
    expect(samePod(a, { ...a, namedPorts: { http: 8080, health: 9091 } })).toBe(false);
    expect(samePod(a, { ...a, namedPorts: undefined })).toBe(false);
    const e = { cluster: 'east', podKey: 'default/web-1', ip: '10.0.0.1', port: 8080, health: 'HEALTHY' as const, region: 'r1', zone: 'z1', drainingSinceMs: undefined };
    expect(sameEndpoint({ ...e, namedPorts: { health: 8081 } }, { ...e, namedPorts: { health: 8081 } })).toBe(true);
    expect(sameEndpoint({ ...e, namedPorts: { health: 8081 } }, { ...e, namedPorts: { health: 8082 } })).toBe(false);
    expect(sameEndpoint({ ...e, namedPorts: { health: 8081 } }, e)).toBe(false);
  });
});

describe('EndpointStore: named ports', () => {
  it('carries the pod’s object on its endpoint (shared, not copied), and none when it names no port', () => {
    const h = make();
    const ports = Object.freeze({ http: 8080, health: 8081 });
    h.store.applyPod(pod({ name: 'p1', ip: '10.0.0.1', namedPorts: ports }));
    h.store.applyPod(pod({ name: 'p2', ip: '10.0.0.2' }));
    h.flushed();
    const [p1, p2] = h.store.service('web')!.endpoints;
    expect(p1!.namedPorts).toBe(ports);
    expect(p2).not.toHaveProperty('namedPorts');
  });

  it('a changed port name alone marks the service changed and reaches the endpoint', () => {
    const h = make();
    h.store.applyPod(pod({ name: 'p1', namedPorts: { http: 8080, health: 8081 } }));
    expect(h.flushed()).toEqual([['web']]);
    // The same names again, in a new object (a re-list): nothing to rebuild.
    h.store.applyPod(pod({ name: 'p1', namedPorts: { http: 8080, health: 8081 } }));
    expect(h.flushed()).toEqual([]);
    h.store.applyPod(pod({ name: 'p1', namedPorts: { http: 8080, healthz: 8081 } }));
    expect(h.flushed()).toEqual([['web']]);
    expect(h.store.service('web')!.endpoints[0]!.namedPorts).toEqual({ http: 8080, healthz: 8081 });
    h.store.applyPod(pod({ name: 'p1' }));
    expect(h.flushed()).toEqual([['web']]);
    expect(h.store.service('web')!.endpoints[0]).not.toHaveProperty('namedPorts');
  });
});
