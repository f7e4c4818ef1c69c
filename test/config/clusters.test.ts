import { describe, expect, it } from 'vitest';
import { ConfigError, parseClusterSpec, validateClusterSpecs } from '../../src/config/index.js';

describe('parseClusterSpec', () => {
  const good = [
    { text: 'east=/etc/kube/east.yaml', want: { name: 'east', kubeconfigPath: '/etc/kube/east.yaml' } },
    { text: 'east=kube/east.yaml#admin@east', want: { name: 'east', kubeconfigPath: 'kube/east.yaml', context: 'admin@east' } },
    { text: 'eu-1=a=b.yaml', want: { name: 'eu-1', kubeconfigPath: 'a=b.yaml' } },
    { text: 'x=dir#1/k.yaml#ctx', want: { name: 'x', kubeconfigPath: 'dir#1/k.yaml', context: 'ctx' } },
  ];
  for (const c of good) it(`parses ${c.text}`, () => expect(parseClusterSpec(c.text)).toEqual(c.want));

  const bad: Array<{ text: string; error: RegExp }> = [
    { text: 'east', error: /--cluster 'east'.*missing '='/ },
    { text: '=k.yaml', error: /--cluster '=k.yaml'.*name before '=' is empty/ },
    { text: 'east=', error: /cluster east: the kubeconfig path after '=' is empty/ },
    { text: 'east=#ctx', error: /cluster east: the kubeconfig path after '=' is empty/ },
    { text: 'east=k.yaml#', error: /cluster east: the context after '#' is empty/ },
    { text: 'East=k.yaml', error: /cluster name 'East' is not a DNS label/ },
    { text: 'a_b=k.yaml', error: /cluster name 'a_b' is not a DNS label/ },
    { text: '-a=k.yaml', error: /cluster name '-a' is not a DNS label/ },
    { text: `${'a'.repeat(64)}=k.yaml`, error: /is not a DNS label/ },
  ];
  for (const c of bad) {
    it(`rejects '${c.text.slice(0, 20)}'`, () => {
      expect(() => parseClusterSpec(c.text)).toThrow(ConfigError);
      expect(() => parseClusterSpec(c.text)).toThrow(c.error);
    });
  }
});

describe('validateClusterSpecs', () => {
  it('accepts distinct names', () => {
    const specs = [parseClusterSpec('a=1.yaml'), parseClusterSpec('b=2.yaml')];
    expect(validateClusterSpecs(specs)).toEqual(specs);
  });
  it('names the duplicate', () => {
    const specs = ['a=1.yaml', 'b=2.yaml', 'a=3.yaml'].map(parseClusterSpec);
    expect(() => validateClusterSpecs(specs)).toThrow(/cluster name 'a' is given more than once/);
  });
});
