import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessGuard, allowedHostSet, isAllowedHost, refusalMessage, type AccessGuard, type RefusalReason } from '../access/index.js';
import { LogOnce, type HeraldMetrics, type Logger } from '../telemetry/index.js';
import { UI_CSP, UI_HTML } from './ui.js';
import { summarizeService, type AdminView } from './view.js';
import { parseDrainQuery, WaiterGate } from './drain-query.js';

export interface AdminServerOptions {
  logger?: Logger;
  /** Who may read the debug pages and the UI; default: loopback callers only. */
  access?: AccessGuard;
  /** Host names accepted in the Host header besides IP literals and localhost (--admin-allowed-host). */
  allowedHosts?: readonly string[];
  /** Counts refusals; absent in tests that do not look at them. */
  metrics?: Pick<HeraldMetrics, 'adminRequestsRefused'> & Partial<Pick<HeraldMetrics, 'drainWaiters'>>;
  /** Requests that may wait on /debug/drains/wait at once (default 64); more are answered 429. */
  maxDrainWaiters?: number;
}

type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

/** Open to anyone who reaches the port: the kubelet probes and Prometheus scrapes without credentials. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['healthz', 'readyz', 'metrics']);

interface RequestContext {
  /** Path segments after the route prefix, still percent-encoded. */
  rest: string[];
  query: URLSearchParams;
  /** Aborts when the caller goes away, so a long-poll stops holding anything for it. */
  signal: AbortSignal;
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';
const ALLOWED = 'GET, HEAD';

function json(status: number, body: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(body, null, 2)}\n` };
}

function text(status: number, body: string): Reply {
  return { status, contentType: TEXT_TYPE, body };
}

/**
 * Splits a request target into path segments and query without the WHATWG URL parser: a
 * target such as "//x" would otherwise be read as a host name. Empty segments (double or
 * trailing slashes) are dropped so "/debug/services/" routes like "/debug/services".
 */
export function parseTarget(rawTarget: string): { segments: string[]; query: URLSearchParams } {
  // Absolute-form ("http://host/path", RFC 9112 §3.2.2) must be accepted too: keep its path.
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(rawTarget);
  const target = absolute ? rawTarget.slice(absolute[0].length) : rawTarget;
  const q = target.indexOf('?');
  const pathPart = q === -1 ? target : target.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
  return { segments: pathPart.split('/').filter((s) => s.length > 0), query };
}

/**
 * The operator's window into a running replica: health probes, Prometheus metrics and JSON
 * debug pages. Every response is computed from the AdminView at request time.
 *
 * /readyz always answers JSON ({ ready, reasons, xdsServing, clusters }) with 200 or 503, so a
 * probe needs only the status while a human sees which Kubernetes cluster holds things up.
 * HEAD is accepted wherever GET is (HTTP requires it; probes and load balancers use it).
 *
 * Only /healthz, /readyz and /metrics are open. Everything else (debug pages, the UI, the
 * index) names pods, IPs and clients, so it answers a trusted caller only (see AccessGuard):
 * 401 without credentials, 403 with a wrong token. Every request, open paths included, must
 * carry an allowed Host header (421 otherwise), so no browser page can reach the port by DNS
 * rebinding.
 */
export class AdminServer {
  private readonly view: AdminView;
  private readonly logger: Logger | undefined;
  private readonly server: http.Server;
  private readonly routes: { prefix: string[]; exact: boolean; handler: Handler }[];
  private readonly access: AccessGuard;
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly counters: AdminServerOptions['metrics'];
  private readonly refusalLog = new LogOnce();
  private readonly waiters: WaiterGate;

  constructor(view: AdminView, options: AdminServerOptions = {}) {
    this.view = view;
    this.logger = options.logger;
    this.access = options.access ?? accessGuard();
    this.allowedHosts = allowedHostSet(options.allowedHosts ?? []);
    this.counters = options.metrics;
    this.waiters = new WaiterGate(options.maxDrainWaiters ?? 64);
    this.routes = [
      { prefix: [], exact: true, handler: () => this.index() },
      { prefix: ['healthz'], exact: true, handler: () => this.healthz() },
      { prefix: ['readyz'], exact: true, handler: () => this.readyz() },
      { prefix: ['metrics'], exact: true, handler: () => this.metrics() },
      { prefix: ['debug', 'clusters'], exact: true, handler: () => json(200, this.view.clusters()) },
      { prefix: ['debug', 'services'], exact: false, handler: (ctx) => this.services(ctx) },
      { prefix: ['debug', 'clients'], exact: true, handler: () => json(200, this.view.clients()) },
      { prefix: ['debug', 'drains'], exact: true, handler: (ctx) => this.drains(ctx) },
      { prefix: ['debug', 'drains', 'wait'], exact: true, handler: (ctx) => this.drainWait(ctx) },
      { prefix: ['debug', 'drains', 'recent'], exact: true, handler: () => this.recentDrains() },
      { prefix: ['debug', 'policies'], exact: true, handler: () => this.policies() },
      { prefix: ['ui'], exact: true, handler: () => ui() },
    ];
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting connections and drops idle keep-alive ones so shutdown is not held up. */
  close(): Promise<void> {
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      reply = await this.route(req, res, gone.signal);
    } catch (err) {
      this.logger?.error({ err, url: req.url }, 'admin request failed');
      reply = json(500, { error: 'internal error' });
    }
    if (res.headersSent || res.destroyed) return;
    res.statusCode = reply.status;
    res.setHeader('content-type', reply.contentType);
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
    res.setHeader('content-length', Buffer.byteLength(reply.body));
    res.end(reply.body);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, signal: AbortSignal): Promise<Reply> {
    if (!isAllowedHost(req.headers.host, this.allowedHosts)) {
      this.refused(req, 'host_not_allowed');
      return json(421, { error: 'host not allowed', detail: 'the Host header is not an IP address, localhost or a name given with --admin-allowed-host' });
    }
    const { segments, query } = parseTarget(req.url ?? '/');
    // Checked before routing, so an unauthenticated caller cannot tell which paths exist.
    if (!(segments.length === 1 && OPEN_PATHS.has(segments[0]!))) {
      const decision = this.access.check({ peerAddress: req.socket.remoteAddress, authorization: req.headers.authorization });
      if (!decision.allowed) {
        this.refused(req, decision.reason);
        if (decision.reason === 'bad_token') return json(403, { error: 'forbidden', detail: refusalMessage(decision.reason) });
        return { ...json(401, { error: 'unauthorized', detail: refusalMessage(decision.reason) }), headers: { 'www-authenticate': 'Bearer realm="herald-admin"' } };
      }
    }
    const route = this.routes.find((r) => (r.exact ? segments.length === r.prefix.length : segments.length >= r.prefix.length) && r.prefix.every((p, i) => segments[i] === p));
    if (!route) return json(404, { error: 'not found', path: segments.join('/') });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', ALLOWED);
      return json(405, { error: 'method not allowed', allow: ALLOWED });
    }
    return route.handler({ rest: segments.slice(route.prefix.length), query, signal });
  }

  private refused(req: http.IncomingMessage, reason: RefusalReason | 'host_not_allowed'): void {
    this.counters?.adminRequestsRefused.inc({ reason });
    const peer = req.socket.remoteAddress ?? 'unknown';
    if (this.refusalLog.shouldLog(`${reason} ${peer}`)) this.logger?.warn({ peer, reason, host: req.headers.host }, 'admin request refused');
  }

  private index(): Reply {
    const paths = ['/ui', '/healthz', '/readyz', '/metrics', '/debug/clusters', '/debug/services', '/debug/services/NAME', '/debug/clients'];
    if (this.view.drains) paths.push('/debug/drains');
    if (this.view.recentDrains) paths.push('/debug/drains/recent');
    if (this.view.drainReceipt) paths.push('/debug/drains/wait');
    if (this.view.policies) paths.push('/debug/policies');
    return json(200, { service: 'herald', paths });
  }

  private healthz(): Reply {
    const live = this.view.liveness?.() ?? { ok: true };
    return live.ok ? text(200, 'ok') : text(503, `not ok${live.detail ? `: ${live.detail}` : ''}`);
  }

  private readyz(): Reply {
    const r = this.view.readiness();
    return json(r.ready ? 200 : 503, r);
  }

  private async metrics(): Promise<Reply> {
    const registry = this.view.metrics;
    return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
  }

  private services(ctx: RequestContext): Reply {
    if (ctx.rest.length === 0) {
      const list = [...this.view.services()].map(summarizeService);
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return json(200, list);
    }
    // Service names are label values (no '/'); a longer path cannot name a service.
    if (ctx.rest.length > 1) return json(404, { error: 'unknown service' });
    let name: string;
    try {
      name = decodeURIComponent(ctx.rest[0]!);
    } catch {
      return json(400, { error: 'malformed percent-encoding in service name' });
    }
    const service = this.view.service(name);
    if (!service) return json(404, { error: 'unknown service', service: name });
    return json(200, { summary: summarizeService(service), ...service });
  }

  /** In-flight drains; with ?pod=NAMESPACE/NAME (or namespace=, name=, cluster=, ip=) one pod's drains and where it stands. */
  private drains(ctx: RequestContext): Reply {
    if (!this.view.drains) return json(404, { error: 'not found', path: 'debug/drains' });
    if (!['pod', 'name', 'namespace', 'ip', 'cluster'].some((key) => ctx.query.has(key)) || !this.view.podDrains) return json(200, this.view.drains());
    const parsed = parseDrainQuery(ctx.query, false);
    if ('error' in parsed) return json(400, { error: parsed.error });
    const found = this.view.podDrains(parsed.pod);
    return 'error' in found ? json(400, { error: found.error }) : json(200, found.body);
  }

  /**
   * Has the mesh stopped sending to this pod? 200 when every stream this replica serves has
   * ACKed the pod's DRAINING state, 503 otherwise (the body says where it stands). With
   * ?wait=DURATION (at most MAX_DRAIN_WAIT_MS) it answers as soon as that is settled; a bounded
   * number of callers may wait at once, the others get 429 and Retry-After.
   */
  private async drainWait(ctx: RequestContext): Promise<Reply> {
    if (!this.view.drainReceipt) return json(404, { error: 'not found', path: 'debug/drains/wait' });
    const parsed = parseDrainQuery(ctx.query, true);
    if ('error' in parsed) return json(400, { error: parsed.error });
    const waits = parsed.waitMs > 0;
    if (waits && !this.waiters.tryEnter()) {
      this.counters?.adminRequestsRefused.inc({ reason: 'too_many_waiters' });
      return { ...json(429, { error: 'too many callers waiting for drains', maxWaiters: this.waiters.max }), headers: { 'retry-after': '1' } };
    }
    this.counters?.drainWaiters?.set(this.waiters.waiting);
    try {
      const answer = await this.view.drainReceipt(parsed.pod, parsed.waitMs, ctx.signal);
      if ('error' in answer) return json(400, { error: answer.error });
      return json(answer.drained ? 200 : 503, answer.body);
    } finally {
      if (waits) this.waiters.leave();
      this.counters?.drainWaiters?.set(this.waiters.waiting);
    }
  }

  private recentDrains(): Reply {
    if (!this.view.recentDrains) return json(404, { error: 'not found', path: 'debug/drains/recent' });
    return json(200, this.view.recentDrains());
  }

  private policies(): Reply {
    if (!this.view.policies) return json(404, { error: 'not found', path: 'debug/policies' });
    return json(200, this.view.policies());
  }
}

function ui(): Reply {
  return {
    status: 200,
    contentType: 'text/html; charset=utf-8',
    body: UI_HTML,
    headers: { 'content-security-policy': UI_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' },
  };
}
