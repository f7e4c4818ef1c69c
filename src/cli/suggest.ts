// "Unknown argument: xds-prot" is more useful as "did you mean --xds-port?".

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for short strings. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known flag closest to `unknown`, when it is close enough to be a typo (a third of its length, at most 3 edits). */
export function closestFlag(unknown: string, known: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(unknown.length / 3)));
  let best: { flag: string; distance: number } | undefined;
  for (const flag of known) {
    const distance = editDistance(unknown, flag);
    if (distance <= limit && (!best || distance < best.distance)) best = { flag, distance };
  }
  return best?.flag;
}

/**
 * yargs' strict-mode message ("Unknown arguments: xds-prot, xdsProt") with a suggestion for each
 * unknown flag that is close to a known one; undefined when the message is not about unknown
 * arguments or nothing is close.
 */
export function suggestFlags(message: string, known: readonly string[]): string | undefined {
  const match = /^Unknown arguments?: (.+)$/.exec(message);
  if (!match) return undefined;
  const dashed = known.filter((flag) => !/[A-Z]/.test(flag));
  // yargs lists each unknown flag twice, as typed and camelCased; the camelCased twin adds nothing.
  const unknown = match[1]!.split(', ').filter((name) => !/[A-Z]/.test(name));
  const hints = unknown.flatMap((name) => {
    const flag = closestFlag(name, dashed);
    return flag === undefined ? [] : [`--${name}: did you mean --${flag}?`];
  });
  return hints.length === 0 ? undefined : hints.join('\n');
}
