import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export type KubeOperation = 'list' | 'watch';

export interface InformerLoopHooks<T> {
  /** A full list was applied; `items` is the informer's whole cache (newest state of every object). */
  onListed(items: readonly T[]): void;
  /** Watch events, after the first list. Objects replayed by a relist go to onListed instead. */
  onAdd(obj: T): void;
  onUpdate(obj: T): void;
  onDelete(obj: T): void;
  /** A list completed or a watch was (re-)established: the API answers again. */
  onHealthy(): void;
  /** The informer stopped on an error; the loop restarts it after `retryInMs`. */
  onError(error: unknown, operation: KubeOperation, retryInMs: number): void;
  /** The loop restarts the informer after an error. */
  onRestart(): void;
}

export interface InformerLoopOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. /api/v1/pods. */
  path: string;
  /** Lists every object; must apply `labelSelector` itself (the informer applies it to the watch only). */
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string | undefined;
  hooks: InformerLoopHooks<T>;
  backoff: { initialMs: number; maxMs: number };
  random: () => number;
  /** A list that takes longer fails (and is retried): an API server that accepts connections but never answers must not leave the cluster 'syncing' forever. */
  listTimeoutMs?: number;
}

// The informer keeps every object it sees; managedFields is often most of a pod's bytes and
// nothing here reads it.
function slim<T extends KubernetesObject>(obj: T): T {
  if (obj?.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

/**
 * Watch whose failures always reach `done`: client-node's Watch throws (instead of calling
 * `done`) when authentication cannot be applied, which would leave the informer dead with an
 * unhandled rejection. It also reports when a watch is established.
 */
class ReportingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly isStopped: () => boolean,
    private readonly onStart: () => void,
    private readonly onEstablished: () => void,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: Parameters<Watch['watch']>[2],
    done: Parameters<Watch['watch']>[3],
  ): Promise<AbortController> {
    // The informer goes on to watch after a list that was in flight when it was stopped.
    if (this.isStopped()) return new AbortController();
    this.onStart();
    let finished = false;
    const reportDone = (err: unknown) => {
      finished = true;
      done(err);
    };
    try {
      const controller = await super.watch(path, queryParams, (phase, obj, raw) => callback(phase, slim(obj), raw), reportDone);
      if (!finished) this.onEstablished();
      return controller;
    } catch (error) {
      reportDone(error);
      return new AbortController();
    }
  }
}

/**
 * One client-node ListWatch (the class makeInformer builds) kept alive: it stops on any error
 * other than 410 Gone, so this restarts it with jittered exponential backoff. A restart resumes
 * the watch from the last resourceVersion; a 410 makes the informer relist by itself.
 */
export class InformerLoop<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly hooks: InformerLoopHooks<T>;
  private readonly options: InformerLoopOptions<T>;
  private operation: KubeOperation = 'list';
  /** True between a list's return and the informer having applied it (callbacks are list replay). */
  private applyingList = false;
  private everListed = false;
  private stopped = true;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(options: InformerLoopOptions<T>) {
    this.options = options;
    this.hooks = options.hooks;
    const watch = new ReportingWatch(
      options.kubeConfig,
      () => this.stopped,
      () => (this.operation = 'watch'),
      () => this.healthy(),
    );
    this.informer = new ListWatch<T>(options.path, watch, () => this.list(), false, options.labelSelector);
    this.informer.on('add', (obj) => this.applyingList || this.hooks.onAdd(obj));
    this.informer.on('update', (obj) => this.applyingList || this.hooks.onUpdate(obj));
    this.informer.on('delete', (obj) => this.applyingList || this.hooks.onDelete(obj));
    this.informer.on('error', (error) => this.failed(error));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.informer.stop();
  }

  /** The informer's cache: the newest state of every object it holds. */
  items(): readonly T[] {
    return this.informer.list();
  }

  private run(): void {
    // start() resolves after the list and the watch connect, or after reporting an error; it
    // does not throw for API failures. Never await it: an unreachable cluster must not block.
    this.informer.start().catch((error: unknown) => this.failed(error));
  }

  private async list(): Promise<KubernetesListObject<T>> {
    this.operation = 'list';
    const result = await this.withTimeout(this.options.list(), this.options.listTimeoutMs ?? 60_000);
    for (const item of result.items ?? []) slim(item);
    // The informer applies the list synchronously once this promise settles (its delete/add/update
    // callbacks are replay, not news); by the time an immediate runs, its cache is the new list.
    this.applyingList = true;
    setImmediate(() => this.listApplied());
    return result;
  }

  private async withTimeout<R>(promise: Promise<R>, ms: number): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private listApplied(): void {
    this.applyingList = false;
    if (this.stopped) return;
    this.everListed = true;
    this.hooks.onListed(this.informer.list());
    this.healthy();
  }

  private healthy(): void {
    if (this.stopped || !this.everListed) return;
    this.failures = 0;
    this.hooks.onHealthy();
  }

  private failed(error: unknown): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const base = Math.min(this.options.backoff.maxMs, this.options.backoff.initialMs * 2 ** Math.min(this.failures, 30));
    // Equal jitter: many Heralds losing the same API server must not come back in lockstep.
    const delay = Math.round(base / 2 + (this.options.random() * base) / 2);
    this.failures += 1;
    this.hooks.onError(error, this.operation, delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.hooks.onRestart();
      this.run();
    }, delay);
  }
}
