import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildInfo, HeraldMetrics } from '../../src/telemetry/index.js';

describe('herald_build_info', () => {
  it('says which Herald and which Node.js run, with the value 1', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { version: string };
    expect(buildInfo()).toEqual({ version: pkg.version, node: process.versions.node });
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const text = await metrics.registry.metrics();
    expect(text).toContain(`herald_build_info{version="${pkg.version}",nodejs="${process.versions.node}"} 1`);
  });
});
