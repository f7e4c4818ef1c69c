// The scoped mesh: each simulated Envoy declares the services it calls (Node metadata key
// `herald.io/dependencies`), as a real mesh's apps do. Deterministic for a seed, so every server
// gets the same declarations.
//
// Shape: G dependency sets stand for G apps (deployments). Each set names D distinct services
// drawn without replacement with Zipf-like popularity (weight 1/rank^exponent over the N
// services, rank 1 the most popular), and the S Envoys are dealt out over the sets in turn
// (Envoy i runs app i mod G), so each set has S/G Envoys. At S=10,000 N=600 D=20 G=500 the most
// popular service lands in almost every set: thousands of dependents.

/** Number of Envoys per app, services per app, apps: the declared shape of a scoped point. */
export interface ScopeSpec {
  /** D: services each Envoy declares. */
  dependencies: number;
  /** G: distinct dependency sets (apps). */
  sets: number;
  /** Zipf exponent of service popularity (1 by default). */
  exponent?: number;
  /** PRNG seed (1 by default). */
  seed?: number;
}

/** A small seeded PRNG (mulberry32): the same sequence on every machine and Node version. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Where the rolling deploy's service sits in the popularity ranking (1-based, when N allows). */
export const ROLLOUT_RANK = 10;

export class Scoping {
  /** The distinct dependency sets, each sorted by name. */
  readonly sets: string[][];
  /** Envoy i (over the whole run) declares sets[setOf[i]]. */
  readonly setOf: number[];
  /** Services by popularity, most popular first. */
  readonly ranking: string[];
  /** Envoys (streams) that declare each service. */
  readonly dependents = new Map<string, number>();

  /**
   * `ranking` is every service, most popular first; `streams` is S.
   */
  constructor(
    readonly spec: ScopeSpec,
    ranking: readonly string[],
    streams: number,
  ) {
    const { dependencies: d, sets: g } = spec;
    if (!Number.isInteger(d) || d < 1 || d > ranking.length) throw new Error(`D=${d}: want 1 … ${ranking.length} services per Envoy`);
    if (!Number.isInteger(g) || g < 1 || g > streams) throw new Error(`G=${g}: want 1 … ${streams} dependency sets`);
    this.ranking = [...ranking];
    const exponent = spec.exponent ?? 1;
    const random = seededRandom(spec.seed ?? 1);
    const weights = this.ranking.map((_, r) => 1 / (r + 1) ** exponent);
    this.sets = [];
    for (let s = 0; s < g; s++) this.sets.push(drawWithoutReplacement(this.ranking, weights, d, random).sort());
    this.setOf = Array.from({ length: streams }, (_, i) => i % g);
    for (const service of this.ranking) this.dependents.set(service, 0);
    const perSet = this.sets.map((_, s) => Math.floor(streams / g) + (s < streams % g ? 1 : 0));
    this.sets.forEach((set, s) => {
      for (const service of set) this.dependents.set(service, this.dependents.get(service)! + perSet[s]!);
    });
  }

  /** How many of the sets are different from each other (the same draw twice is possible). */
  distinctSets(): number {
    return new Set(this.sets.map((set) => set.join(','))).size;
  }

  /** The service with the most dependents (the first by rank on a tie). */
  mostPopular(): string {
    let best = this.ranking[0]!;
    for (const service of this.ranking) if (this.dependents.get(service)! > this.dependents.get(best)!) best = service;
    return best;
  }

  dependentsOf(service: string): number {
    return this.dependents.get(service) ?? 0;
  }
}

/** `count` distinct items, each draw weighted among those not yet drawn. */
function drawWithoutReplacement(items: readonly string[], weights: readonly number[], count: number, random: () => number): string[] {
  const left = weights.slice();
  let total = left.reduce((a, b) => a + b, 0);
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let pick = random() * total;
    let i = 0;
    // The last item with weight left takes any rounding remainder.
    let last = -1;
    for (; i < left.length; i++) {
      if (left[i] === 0) continue;
      last = i;
      pick -= left[i]!;
      if (pick < 0) break;
    }
    if (i === left.length) i = last;
    out.push(items[i]!);
    total -= left[i]!;
    left[i] = 0;
  }
  return out;
}
