import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = { metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string }; [k: string]: unknown };
type Kind = 'pods' | 'nodes';
interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
}
interface OpenWatch {
  kind: Kind;
  selector: string | undefined;
  namespace: string | undefined;
  res: ServerResponse;
}

function matches(obj: Obj, selector: string | undefined, namespace?: string): boolean {
  if (namespace !== undefined && obj.metadata.namespace !== namespace) return false;
  // Only existence selectors ("key") are needed here.
  return selector === undefined || selector === '' || (obj.metadata.labels ?? {})[selector] !== undefined;
}

/** The kind and namespace a path asks for: all pods, one namespace's pods, or nodes. */
function route(pathname: string): { kind: Kind; namespace: string | undefined } | undefined {
  if (pathname === '/api/v1/pods') return { kind: 'pods', namespace: undefined };
  if (pathname === '/api/v1/nodes') return { kind: 'nodes', namespace: undefined };
  const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(pathname);
  return namespaced ? { kind: 'pods', namespace: decodeURIComponent(namespaced[1]!) } : undefined;
}

function keyOf(obj: Obj): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * A tiny Kubernetes API on loopback: list and watch (newline-delimited JSON) for pods and nodes,
 * with resourceVersions, a compaction point (older watches get 410) and forced HTTP errors.
 */
export class FakeApiServer {
  private server: Server | undefined;
  private rv = 1;
  /** Watches asking for a resourceVersion below this get 410 Gone. */
  private compactedRv = 0;
  private readonly objects: Record<Kind, Map<string, Obj>> = { pods: new Map(), nodes: new Map() };
  private readonly history: Record<Kind, WatchEvent[]> = { pods: [], nodes: [] };
  private readonly watches = new Set<OpenWatch>();
  /** Every request seen: kind, whether it was a watch, its labelSelector. */
  readonly requests: Array<{ kind: Kind; watch: boolean; labelSelector: string | undefined; namespace: string | undefined }> = [];
  /** When set, requests for that kind answer with this HTTP status. */
  readonly failWith: Partial<Record<Kind, number>> = {};
  /** When true, list requests get no answer at all. */
  hangLists = false;
  port = 0;

  async listen(port = 0): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
      currentContext: 'fake',
    });
    return kc;
  }

  upsert(kind: Kind, obj: Obj): void {
    const key = keyOf(obj);
    const existed = this.objects[kind].has(key);
    const stored = this.stamp(obj);
    this.objects[kind].set(key, stored);
    this.emit(kind, existed ? 'MODIFIED' : 'ADDED', stored);
  }

  remove(kind: Kind, namespace: string | undefined, name: string): void {
    const key = `${namespace ?? ''}/${name}`;
    const obj = this.objects[kind].get(key);
    if (obj === undefined) return;
    this.objects[kind].delete(key);
    this.emit(kind, 'DELETED', this.stamp(obj));
  }

  /** Removes an object without any watch event, as if it went while nobody was watching. */
  removeSilently(kind: Kind, namespace: string | undefined, name: string): void {
    this.objects[kind].delete(`${namespace ?? ''}/${name}`);
    this.rv += 1;
  }

  /** Compacts history and ends every open watch with a 410 ERROR event, as etcd compaction does. */
  expireWatches(): void {
    this.compactedRv = this.rv;
    for (const w of this.watches) {
      w.res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' } })}\n`);
    }
    this.watches.clear();
  }

  openWatches(kind: Kind): number {
    return [...this.watches].filter((w) => w.kind === kind).length;
  }

  private stamp(obj: Obj): Obj {
    this.rv += 1;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } };
  }

  private emit(kind: Kind, type: WatchEvent['type'], object: Obj): void {
    const event = { rv: this.rv, type, object };
    this.history[kind].push(event);
    for (const w of this.watches) {
      if (w.kind === kind && matches(object, w.selector, w.namespace)) w.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const target = route(url.pathname);
    const watch = url.searchParams.get('watch') === 'true';
    const selector = url.searchParams.get('labelSelector') ?? undefined;
    if (target === undefined) return this.status(res, 404, 'NotFound', `no route ${url.pathname}`);
    const { kind, namespace } = target;
    this.requests.push({ kind, watch, labelSelector: selector, namespace });
    const failure = this.failWith[kind];
    if (failure !== undefined) {
      return this.status(res, failure, failure === 403 ? 'Forbidden' : 'Failure', `${kind} is forbidden: User "test" cannot list resource "${kind}"`);
    }
    if (!watch) {
      if (this.hangLists) return;
      const items = [...this.objects[kind].values()].filter((o) => matches(o, selector, namespace));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: kind === 'pods' ? 'PodList' : 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items }));
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from < this.compactedRv) return this.status(res, 410, 'Expired', 'too old resource version');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    for (const e of this.history[kind]) {
      if (e.rv > from && matches(e.object, selector, namespace)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    const open: OpenWatch = { kind, selector, namespace, res };
    this.watches.add(open);
    res.on('close', () => this.watches.delete(open));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
  }
}
