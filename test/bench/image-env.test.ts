import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENT_OLD_SPACE_MB, IMAGE_ENV } from '../../bench/image-env.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** KEY=VALUE of each ENV line in the Dockerfile's runtime stage. */
function runtimeEnv(): Record<string, string> {
  const stage = read('Dockerfile').split(/^FROM .* AS runtime$/m)[1];
  if (stage === undefined) throw new Error('Dockerfile has no runtime stage');
  return Object.fromEntries([...stage.matchAll(/^ENV (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

describe("the bench's Herald environment", () => {
  it('is the tuning the image sets, no more and no less', () => {
    const { NODE_ENV: _production, ...tuning } = runtimeEnv();
    expect(tuning).toEqual(IMAGE_ENV);
  });

  it("is kept by the example Deployment, whose NODE_OPTIONS replaces the image's", () => {
    const deployment = read('deploy/base/deployment.yaml');
    const value = /- name: NODE_OPTIONS\s+value: (.*)$/m.exec(deployment)?.[1];
    expect(value).toBeDefined();
    const flags = value!.trim().split(/\s+/);
    for (const flag of IMAGE_ENV.NODE_OPTIONS!.split(/\s+/)) expect(flags).toContain(flag);
    // The cap the scoped bench runs Herald with, and the report names as the Deployment's.
    expect(flags).toContain(`--max-old-space-size=${DEPLOYMENT_OLD_SPACE_MB}`);
  });
});
