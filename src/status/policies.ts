// `herald status policies`: what /debug/policies says, as a table an operator reads at a glance
// (or JSON). Reads the page defensively: it is an operator aid whose shape may grow.
import { alignColumns } from './format.js';

export interface PolicySectionLine {
  section: string;
  /** `service` (the service's own object) or `defaults` (mesh-defaults). */
  role: string;
  /** cluster/namespace/name of the object served. */
  object: string;
  generation: number | undefined;
}

export interface PolicyServiceLine {
  service: string;
  sections: PolicySectionLine[];
  /** Set fields proxyless gRPC clients ignore. */
  ignoredByProxyless: string[];
  /** Its healthCheck.portName and how many endpoints' pods lack that port; absent when all have it. */
  healthCheckPortUnresolved?: { portName: string; endpoints: number };
}

export interface PolicyStatusReport {
  clusters: string[];
  services: PolicyServiceLine[];
  rejections: Array<{ object: string; generation: number | undefined; errors: string[]; keptGeneration: number | undefined }>;
  conflicts: Array<{ object: string; clusters: string[]; chosen: string }>;
  unavailable: Array<{ cluster: string; reason: string }>;
  /** The kube clusters the mesh defaults evacuate; absent when none is. */
  evacuation?: { clusters: string[]; mode: string; object: string; generation: number | undefined };
}

const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
const objectOf = (o: Record<string, unknown>): string => [o['cluster'], o['namespace'], o['name']].filter((p) => typeof p === 'string').join('/');

export function parsePolicies(json: unknown): PolicyStatusReport {
  const view = record(json);
  const evacuation = record(view['evacuation']);
  return {
    ...(Array.isArray(evacuation['clusters'])
      ? {
          evacuation: {
            clusters: list(evacuation['clusters']).map(text),
            mode: text(evacuation['mode']),
            object: objectOf(record(evacuation['from'])),
            generation: int(record(evacuation['from'])['generation']),
          },
        }
      : {}),
    clusters: list(view['clusters']).map(text),
    services: list(view['services']).map((item) => {
      const s = record(item);
      const from = record(s['from']);
      const unresolved = record(s['healthCheckPortUnresolved']);
      // Sections in the order the spec lists them, so a section new to the CRD shows up as it is.
      return {
        service: text(s['service']),
        sections: Object.keys(record(s['spec'])).map((section) => {
          const origin = record(from[section]);
          return { section, role: text(origin['role']), object: objectOf(origin), generation: int(origin['generation']) };
        }),
        ignoredByProxyless: list(s['ignoredByProxyless']).map((f) => text(record(f)['field'])),
        ...(typeof unresolved['portName'] === 'string' ? { healthCheckPortUnresolved: { portName: unresolved['portName'], endpoints: int(unresolved['endpoints']) ?? 0 } } : {}),
      };
    }),
    rejections: list(view['rejections']).map((item) => {
      const r = record(item);
      return {
        object: objectOf(r),
        generation: int(r['generation']),
        errors: list(r['errors']).map((e) => `${text(record(e)['path'])}: ${text(record(e)['message'])}`),
        keptGeneration: int(r['keptGeneration']),
      };
    }),
    conflicts: list(view['conflicts']).map((item) => {
      const c = record(item);
      return { object: `${text(c['namespace'])}/${text(c['name'])}`, clusters: list(c['clusters']).map(text), chosen: text(c['chosen']) };
    }),
    unavailable: list(view['unavailable']).map((item) => ({ cluster: text(record(item)['cluster']), reason: text(record(item)['reason']) })),
  };
}

const gen = (g: number | undefined): string => (g === undefined ? '?' : String(g));

/** One line per service and section, then rejections, conflicts, clusters without policies, health check port names some pods lack, and the evacuation. */
export function formatPoliciesTable(report: PolicyStatusReport): string {
  let out =
    report.services.length === 0
      ? 'No service has a ServicePolicy.\n'
      : alignColumns([
          ['SERVICE', 'SECTION', 'FROM', 'OBJECT', 'GENERATION', 'IGNORED BY PROXYLESS'],
          ...report.services.flatMap((s) =>
            s.sections.map((line, i) => {
              const ignored = s.ignoredByProxyless.filter((f) => f.startsWith(`spec.${line.section}.`)).map((f) => f.slice(`spec.${line.section}.`.length));
              return [i === 0 ? s.service : '', line.section, line.role || '-', line.object || '-', gen(line.generation), ignored.length ? ignored.join(',') : '-'];
            }),
          ),
        ]);
  for (const r of report.rejections) {
    out += `REJECTED ${r.object} generation ${gen(r.generation)}: ${r.errors.join('; ')} (${r.keptGeneration === undefined ? 'nothing in effect' : `generation ${r.keptGeneration} in effect`})\n`;
  }
  for (const c of report.conflicts) out += `CONFLICT ${c.object}: copies in ${c.clusters.join(', ')} differ; serving ${c.chosen}'s\n`;
  for (const u of report.unavailable) out += `UNAVAILABLE ${u.cluster}: ${u.reason}\n`;
  for (const s of report.services) {
    const u = s.healthCheckPortUnresolved;
    if (u !== undefined) out += `HEALTH CHECK PORT ${s.service}: ${u.endpoints} endpoint(s) without a container port named ${u.portName}, checked on their traffic port\n`;
  }
  const e = report.evacuation;
  if (e !== undefined) out += `EVACUATING ${e.clusters.join(', ')} (${e.mode || '?'}): ${e.object || '-'} generation ${gen(e.generation)}\n`;
  return out;
}

export function formatPoliciesJson(report: PolicyStatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
