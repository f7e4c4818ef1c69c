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
  private informer: ListWatch<T>;
  private readonly hooks: InformerLoopHooks<T>;
  private options: InformerLoopOptions<T>;
  private operation: KubeOperation = 'list';
  /** True between a list's return and the informer having applied it (callbacks are list replay). */
  private applyingList = false;
  private everListed = false;
  private stopped = true;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** After a reconnect, the previous informer's objects, until the new one has listed. */
  private carried: readonly T[] | undefined;

  constructor(options: InformerLoopOptions<T>) {
    this.options = options;
    this.hooks = options.hooks;
    this.informer = this.makeInformer(options);
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

  /**
   * Goes on with other credentials (a rotated kubeconfig): a new informer on the new config
   * lists afresh, and until it has, items() keeps answering with the old informer's objects, so
   * a relist of another namespace's loop does not make the store drop these. Events of the old
   * informer after this call are ignored; the new list reconciles whatever happened meanwhile.
   */
  async reconnect(kubeConfig: KubeConfig, list: InformerLoopOptions<T>['list']): Promise<void> {
    const previous = this.informer;
    this.carried = this.carried ?? previous.list();
    this.options = { ...this.options, kubeConfig, list };
    this.informer = this.makeInformer(this.options);
    this.applyingList = false;
    this.failures = 0;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await previous.stop();
    if (!this.stopped) this.run();
  }

  /** The informer's cache: the newest state of every object it holds. */
  items(): readonly T[] {
    return this.carried ?? this.informer.list();
  }

  private makeInformer(options: InformerLoopOptions<T>): ListWatch<T> {
    // Every callback checks that its informer is still the current one: one replaced by a
    // reconnect may still finish a list or report its abort.
    const current = () => informer === this.informer;
    const watch = new ReportingWatch(
      options.kubeConfig,
      () => this.stopped || !current(),
      () => (this.operation = 'watch'),
      () => current() && this.healthy(),
    );
    const informer: ListWatch<T> = new ListWatch<T>(options.path, watch, () => this.list(current), false, options.labelSelector);
    informer.on('add', (obj) => current() && !this.applyingList && this.hooks.onAdd(obj));
    informer.on('update', (obj) => current() && !this.applyingList && this.hooks.onUpdate(obj));
    informer.on('delete', (obj) => current() && !this.applyingList && this.hooks.onDelete(obj));
    informer.on('error', (error) => current() && this.failed(error));
    return informer;
  }

  private run(): void {
    // start() resolves after the list and the watch connect, or after reporting an error; it
    // does not throw for API failures. Never await it: an unreachable cluster must not block.
    const informer = this.informer;
    informer.start().catch((error: unknown) => informer === this.informer && this.failed(error));
  }

  private async list(current: () => boolean): Promise<KubernetesListObject<T>> {
    this.operation = 'list';
    const result = await this.withTimeout(this.options.list(), this.options.listTimeoutMs ?? 60_000);
    for (const item of result.items ?? []) slim(item);
    if (!current()) return result;
    // The informer applies the list synchronously once this promise settles (its delete/add/update
    // callbacks are replay, not news); by the time an immediate runs, its cache is the new list.
    this.applyingList = true;
    setImmediate(() => current() && this.listApplied());
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
    this.carried = undefined;
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
