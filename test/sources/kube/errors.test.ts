import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { describeKubeError, httpStatusOf } from '../../../src/sources/kube/errors.js';

function watchError(status: number): Error {
  return Object.assign(new Error('Forbidden'), { statusCode: status });
}

describe('describeKubeError', () => {
  const cases: Array<{ title: string; op: 'list' | 'watch'; kind: 'pod' | 'node'; error: unknown; want: string }> = [
    {
      title: '403 on list (ApiException)',
      op: 'list',
      kind: 'pod',
      error: new ApiException(403, 'Forbidden', { message: 'pods is forbidden' }, {}),
      want: 'cluster east: forbidden to list pods: check the ClusterRole (get/list/watch on pods, nodes and servicepolicies.herald.io)',
    },
    {
      title: '403 on watch (Watch error)',
      op: 'watch',
      kind: 'node',
      error: watchError(403),
      want: 'cluster east: forbidden to watch nodes: check the ClusterRole (get/list/watch on pods, nodes and servicepolicies.herald.io)',
    },
    {
      title: '401',
      op: 'list',
      kind: 'pod',
      error: new ApiException(401, 'Unauthorized', '', {}),
      want: 'cluster east: unauthorized (401) to list pods: check the credentials of its kubeconfig user (expired token? exec plugin?)',
    },
    {
      title: 'other status uses the Status message from the body',
      op: 'list',
      kind: 'pod',
      error: new ApiException(500, 'Internal', JSON.stringify({ kind: 'Status', message: 'etcdserver: request timed out' }), {}),
      want: 'cluster east: list pods failed: HTTP 500: etcdserver: request timed out',
    },
    {
      title: 'network error shows the cause',
      op: 'watch',
      kind: 'pod',
      error: new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }),
      want: 'cluster east: watch pods failed: fetch failed: connect ECONNREFUSED 127.0.0.1:1',
    },
    { title: 'not an Error', op: 'list', kind: 'node', error: 'boom', want: 'cluster east: list nodes failed: boom' },
  ];
  for (const c of cases) it(c.title, () => expect(describeKubeError('east', c.op, c.kind, c.error)).toBe(c.want));

  it('reads the status of both error shapes', () => {
    expect(httpStatusOf(new ApiException(410, 'Gone', '', {}))).toBe(410);
    expect(httpStatusOf(watchError(410))).toBe(410);
    expect(httpStatusOf(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
  });
});
