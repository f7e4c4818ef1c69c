// run.ts's command line and the limits it sets, shared with report.ts, which reads a result file's
// recorded command to say which limits a run had.
import { parseArgs } from 'node:util';
import type { Limits } from './scenario.js';

export const RUN_OPTIONS = {
  smoke: { type: 'boolean', default: false },
  points: { type: 'string' },
  subjects: { type: 'string', default: 'herald,peer-snapshot,peer-linear' },
  drains: { type: 'string', default: '10' },
  workers: { type: 'string', default: '2' },
  clusters: { type: 'string', default: '3' },
  label: { type: 'string' },
  'cpu-prof': { type: 'string' },
  'no-peer': { type: 'boolean', default: false },
  'rss-limit-mb': { type: 'string', default: '4096' },
  // Herald's V8 old-space cap (MB); the example Deployment gives it 768.
  'herald-old-space-mb': { type: 'string', default: '4096' },
  'rollout-pods': { type: 'string', default: '100' },
  'deploy-step-ms': { type: 'string', default: '50' },
  'storm-timeout-s': { type: 'string', default: '180' },
  // The Node that runs Herald (the load generator stays on this one): the image ships Node 24.
  'herald-node': { type: 'string' },
  loadgen: { type: 'string' },
  // Herald only: the Envoys declare this many kube clusters (see SizePoint.perspectives).
  perspectives: { type: 'string' },
  // Herald only: each point once per zone count listed, e.g. 1,3,1,3 (see MeshSpec.zones, scenario.ts zoneSetup).
  zones: { type: 'string' },
  // Add this run's results to the label's result file instead of starting it afresh.
  append: { type: 'boolean', default: false },
} as const;

export type RunOptions = ReturnType<typeof parseRunArgs>;

export function parseRunArgs(args: string[]) {
  return parseArgs({ args, options: RUN_OPTIONS }).values;
}

/** What a result file records of the limits (the load generator's binary path is left out). */
export type RecordedLimits = Omit<Limits, 'loadgen'>;

export function runLimits(values: RunOptions): RecordedLimits {
  return values.smoke
    ? { stormTimeoutMs: 20_000, drainTimeoutMs: 10_000, deployTimeoutMs: 20_000, deployStepMs: 20, serverRssLimitMb: 1024, workerRssLimitMb: 1024, workers: 1 }
    : {
        stormTimeoutMs: Number(values['storm-timeout-s']) * 1000,
        drainTimeoutMs: 60_000,
        deployTimeoutMs: 120_000,
        deployStepMs: Number(values['deploy-step-ms']),
        serverRssLimitMb: Number(values['rss-limit-mb']),
        workerRssLimitMb: 2048,
        workers: Number(values.workers),
      };
}

/** The options of a recorded command line (`node …/run.js ARGS`; an appended run's ` && node …` after it is left out). */
export function optionsOfCommand(command: string): RunOptions {
  const words = command.trim().split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('run.js'));
  const end = words.indexOf('&&', script);
  return parseRunArgs(words.slice(script + 1, end < 0 ? undefined : end));
}

/** The limits of a recorded command line, as run.ts sets them today. */
export function limitsOfCommand(command: string): RecordedLimits {
  return runLimits(optionsOfCommand(command));
}
