// The rules a ServicePolicy spec must follow. deploy/crd/servicepolicies.yaml states the same
// rules as OpenAPI bounds and CEL (the apiserver checks them at apply); Herald checks them again
// from this table, because a cluster may run an older CRD or one without its CEL rules.
// test/policy/crd-schema.test.ts holds the two together: a bound changed on one side fails it.
import { EVACUATE_MODES, LB_POLICIES, PORT_NAME_MAX_LENGTH, PORT_NAME_PATTERN, RETRY_CONDITIONS, TERMINATING_FALLBACKS, ZONE_PREFERENCES, type PolicySection } from '../model/index.js';

/**
 * One field's rule, in the shape of its OpenAPI schema in the CRD: a bounded integer, a string
 * from an enum or matching a pattern, a boolean, an object of fields (some required), or a bounded list
 * (`set`: no value twice, the CRD's x-kubernetes-list-type).
 */
export type FieldRule =
  | { type: 'integer'; minimum: number; maximum: number }
  | { type: 'string'; enum: readonly string[] }
  | { type: 'string'; pattern: string; maxLength: number }
  | { type: 'boolean' }
  | { type: 'object'; properties: Readonly<Record<string, FieldRule>>; required?: readonly string[] }
  | { type: 'array'; items: FieldRule; minItems: number; maxItems: number; listType?: 'set' };

// Counts stop at 2³¹−1, not the proto's 2³²−1: Java clients (protobuf-java) hold uint32 fields
// in a signed int, where larger values turn negative; no mesh needs more.
const MAX_COUNT = 2_147_483_647;
/** Durations are whole milliseconds; a day is more than any of them needs. */
const DAY_MS = 86_400_000;

/** Every field of every section, with its bounds. A field not listed here is rejected. */
export const FIELD_RULES: Readonly<Record<PolicySection, Readonly<Record<string, FieldRule>>>> = {
  connection: {
    connectTimeoutMs: { type: 'integer', minimum: 1, maximum: 300_000 },
    idleTimeoutMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
    maxRequestsPerConnection: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
  },
  loadBalancing: {
    policy: { type: 'string', enum: LB_POLICIES },
    panicThresholdPercent: { type: 'integer', minimum: 0, maximum: 100 },
    slowStartWindowMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    // A lowercase header name: gRPC metadata keys are lowercase, Envoy matches names in any case.
    hashHeader: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]*$', maxLength: 256 },
  },
  circuitBreakers: {
    maxConnections: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    maxPendingRequests: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    maxRequests: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    maxRetries: { type: 'integer', minimum: 0, maximum: MAX_COUNT },
    retryBudgetPercent: { type: 'integer', minimum: 0, maximum: 100 },
    retryBudgetMinConcurrency: { type: 'integer', minimum: 0, maximum: MAX_COUNT },
    perHostMaxConnections: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
  },
  outlierDetection: {
    consecutive5xx: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    consecutiveGatewayErrors: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    intervalMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
    baseEjectionTimeMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
    maxEjectionPercent: { type: 'integer', minimum: 0, maximum: 100 },
    successRateMinimumHosts: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    successRateRequestVolume: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    // Thousandths of a standard deviation; 100 deviations is past any useful cut.
    successRateStdevFactor: { type: 'integer', minimum: 1, maximum: 100_000 },
    failurePercentageThreshold: { type: 'integer', minimum: 0, maximum: 100 },
    failurePercentageMinimumHosts: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    failurePercentageRequestVolume: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
  },
  healthCheck: {
    // Visible ASCII from a leading slash: Envoy refuses control characters in the request line.
    httpPath: { type: 'string', pattern: '^/[!-~]*$', maxLength: 1024 },
    grpcServiceName: { type: 'string', pattern: '^[A-Za-z0-9_.-]*$', maxLength: 256 },
    tcp: { type: 'boolean' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    // A container port name as Kubernetes allows it (IANA_SVC_NAME), the same check the kube
    // source applies to the names it keeps.
    portName: { type: 'string', pattern: PORT_NAME_PATTERN, maxLength: PORT_NAME_MAX_LENGTH },
    intervalMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 300_000 },
    healthyThreshold: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
    unhealthyThreshold: { type: 'integer', minimum: 1, maximum: MAX_COUNT },
  },
  routes: {
    timeoutMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
    retries: {
      type: 'object',
      properties: {
        // Retries after the first attempt. gRPC clients NACK num_retries 0 and stop at 4 retries.
        attempts: { type: 'integer', minimum: 1, maximum: 10 },
        retryOn: { type: 'array', items: { type: 'string', enum: RETRY_CONDITIONS }, minItems: 1, maxItems: RETRY_CONDITIONS.length, listType: 'set' },
        perTryTimeoutMs: { type: 'integer', minimum: 1, maximum: DAY_MS },
        backoff: {
          type: 'object',
          // From 5 ms: with a 1 ms base, gRPC C-core (grpcio 1.85) loses retries, the call hanging to
          // its deadline (test/interop/route-policy.test.ts); 5 ms works in every client.
          properties: { baseIntervalMs: { type: 'integer', minimum: 5, maximum: 3_600_000 }, maxIntervalMs: { type: 'integer', minimum: 5, maximum: 3_600_000 } },
          // Envoy and every gRPC client reject a back-off without its base interval.
          required: ['baseIntervalMs'],
        },
      },
      required: ['retryOn'],
    },
    split: {
      type: 'array',
      items: {
        type: 'object',
        // A Kubernetes label value: the service is the one with that label in the policy's namespace.
        properties: { service: { type: 'string', pattern: '^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$', maxLength: 63 }, weight: { type: 'integer', minimum: 0, maximum: 10_000 } },
        required: ['service', 'weight'],
      },
      minItems: 1,
      // Ten weights of at most 10,000 stay far below the 2³²−1 total that clients require.
      maxItems: 10,
    },
  },
  locality: {
    zone: { type: 'string', enum: ZONE_PREFERENCES },
    zoneMinEndpoints: { type: 'integer', minimum: 1, maximum: 10_000 },
    terminatingFallback: { type: 'string', enum: TERMINATING_FALLBACKS },
    // Herald's kube cluster names (--cluster NAME) are DNS labels. Only the mesh-defaults object
    // may set these two (Herald rejects them elsewhere; the CRD cannot tell which object that is).
    evacuate: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 }, minItems: 1, maxItems: 64, listType: 'set' },
    evacuateMode: { type: 'string', enum: EVACUATE_MODES },
  },
};

/**
 * A rule across fields of one section: `rule` is the CEL the CRD carries (on the section, or on
 * the field at `at` inside it, which is then `self`), `holds` the same rule for Herald, `field`
 * the path the failure names below that (none: the node itself, as for a rule on a list).
 */
export interface SectionRule {
  section: PolicySection;
  at?: readonly string[];
  rule: string;
  message: string;
  field?: string;
  /** `self` is a list for a rule on a list field (read it with `entries`). */
  holds(self: Readonly<Record<string, unknown>>): boolean;
}

/** Any one of these turns an ejection on; the timing fields alone eject nothing. */
const EJECTION_TRIGGERS = [
  'consecutive5xx',
  'consecutiveGatewayErrors',
  'successRateMinimumHosts',
  'successRateRequestVolume',
  'successRateStdevFactor',
  'failurePercentageThreshold',
  'failurePercentageMinimumHosts',
  'failurePercentageRequestVolume',
] as const;

const entries = (self: unknown) => self as ReadonlyArray<Readonly<Record<string, unknown>>>;

export const SECTION_RULES: readonly SectionRule[] = [
  {
    section: 'loadBalancing',
    // Slow start exists only in Envoy's round robin and least request balancers.
    rule: "!has(self.slowStartWindowMs) || !has(self.policy) || self.policy in ['RoundRobin', 'LeastRequest']",
    message: 'slowStartWindowMs needs policy RoundRobin or LeastRequest',
    field: 'slowStartWindowMs',
    holds: (s) => s.slowStartWindowMs === undefined || s.policy === undefined || s.policy === 'RoundRobin' || s.policy === 'LeastRequest',
  },
  {
    section: 'loadBalancing',
    // Without a hash to pick by, a ring hash picks at random; a header without RingHash does nothing.
    rule: "has(self.policy) && self.policy == 'RingHash' ? has(self.hashHeader) : !has(self.hashHeader)",
    message: 'policy RingHash needs hashHeader, and hashHeader needs policy RingHash',
    field: 'hashHeader',
    holds: (s) => (s.policy === 'RingHash') === (s.hashHeader !== undefined),
  },
  {
    section: 'loadBalancing',
    // gRPC clients compute no hash from binary metadata, so every call would pick at random.
    rule: "!has(self.hashHeader) || !self.hashHeader.endsWith('-bin')",
    message: 'hashHeader must not be a binary (-bin) header: gRPC clients do not hash on those',
    field: 'hashHeader',
    holds: (s) => typeof s.hashHeader !== 'string' || !s.hashHeader.endsWith('-bin'),
  },
  {
    section: 'circuitBreakers',
    // With retry_budget set Envoy ignores max_retries: both set would be a limit that silently does nothing.
    rule: '!has(self.maxRetries) || !(has(self.retryBudgetPercent) || has(self.retryBudgetMinConcurrency))',
    message: 'maxRetries and a retry budget (retryBudgetPercent, retryBudgetMinConcurrency) exclude each other: Envoy ignores maxRetries under a budget',
    field: 'maxRetries',
    holds: (s) => s.maxRetries === undefined || (s.retryBudgetPercent === undefined && s.retryBudgetMinConcurrency === undefined),
  },
  {
    section: 'outlierDetection',
    // Ejection settings without a reason to eject would be a policy that silently does nothing.
    rule: EJECTION_TRIGGERS.map((f) => `has(self.${f})`).join(' || '),
    message: 'outlierDetection needs consecutive5xx, consecutiveGatewayErrors, a successRate* or a failurePercentage* field',
    field: 'consecutive5xx',
    holds: (s) => EJECTION_TRIGGERS.some((f) => s[f] !== undefined),
  },
  {
    section: 'healthCheck',
    // Envoy needs exactly one health checker; `tcp: false` is no choice at all.
    rule: '(has(self.httpPath) ? 1 : 0) + (has(self.grpcServiceName) ? 1 : 0) + (has(self.tcp) && self.tcp ? 1 : 0) == 1',
    message: 'healthCheck needs exactly one of httpPath, grpcServiceName, tcp: true',
    field: 'httpPath',
    holds: (s) => [s.httpPath !== undefined, s.grpcServiceName !== undefined, s.tcp === true].filter(Boolean).length === 1,
  },
  {
    section: 'healthCheck',
    // Two ports for one check: whichever Herald picked, the object would say something else.
    rule: '!has(self.port) || !has(self.portName)',
    message: 'port and portName exclude each other',
    field: 'portName',
    holds: (s) => s.port === undefined || s.portName === undefined,
  },
  {
    section: 'routes',
    at: ['retries', 'backoff'],
    // Envoy refuses a route whose back-off would shrink; grpc-js and grpc-java NACK it.
    rule: '!has(self.maxIntervalMs) || self.maxIntervalMs >= self.baseIntervalMs',
    message: 'maxIntervalMs must be ≥ baseIntervalMs',
    field: 'maxIntervalMs',
    holds: (s) => s.maxIntervalMs === undefined || (s.maxIntervalMs as number) >= (s.baseIntervalMs as number),
  },
  {
    section: 'routes',
    at: ['split'],
    rule: 'self.all(a, self.exists_one(b, b.service == a.service))',
    message: 'split names each service once',
    holds: (self) => new Set(entries(self).map((e) => e.service)).size === entries(self).length,
  },
  {
    section: 'routes',
    at: ['split'],
    // Every client rejects weighted clusters whose weights add up to 0.
    rule: 'self.exists(e, e.weight > 0)',
    message: 'split needs a service with weight > 0',
    holds: (self) => entries(self).some((e) => (e.weight as number) > 0),
  },
  {
    section: 'locality',
    // A minimum for a zone preference that is not asked for would silently do nothing.
    rule: "!has(self.zoneMinEndpoints) || (has(self.zone) && self.zone == 'PreferSameZone')",
    message: 'zoneMinEndpoints needs zone PreferSameZone',
    field: 'zoneMinEndpoints',
    holds: (s) => s.zoneMinEndpoints === undefined || s.zone === 'PreferSameZone',
  },
  {
    section: 'locality',
    // A mode with no cluster to evacuate would silently do nothing.
    rule: '!has(self.evacuateMode) || has(self.evacuate)',
    message: 'evacuateMode needs evacuate',
    field: 'evacuateMode',
    holds: (s) => s.evacuateMode === undefined || s.evacuate !== undefined,
  },
];
