// Just enough PromQL reading to find which series and labels an expression uses: strings,
// ranges and grouping lists are taken out first so their contents are not mistaken for
// metric names; identifiers followed by "(" are functions or aggregations.

export interface Selector {
  metric: string;
  /** Label names its matchers use. */
  labels: string[];
}

export interface ExprUse {
  selectors: Selector[];
  /** Labels named in by/without/on/ignoring/group_left/group_right lists. */
  groupingLabels: string[];
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);
const IDENT = /[a-zA-Z_:][\w:]*/y;

function matcherLabels(body: string): string[] {
  return [...body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!);
}

export function analysePromQL(expr: string): ExprUse {
  let text = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  const groupingLabels: string[] = [];
  text = text.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, list: string) => {
    groupingLabels.push(
      ...list
        .split(',')
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    );
    return ' ';
  });
  const selectors: Selector[] = [];
  text = text.replace(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g, (_, metric: string | undefined, body: string) => {
    const labels = matcherLabels(body);
    const nameMatcher = /__name__\s*=\s*""/.test(body);
    if (metric === undefined && !nameMatcher) throw new Error(`selector without a metric name in: ${expr}`);
    if (metric !== undefined) selectors.push({ metric, labels });
    return ' ';
  });
  for (let i = 0; i < text.length; i++) {
    const previous = text[i - 1] ?? ' ';
    if (/[\w:$.]/.test(previous)) continue;
    IDENT.lastIndex = i;
    const match = IDENT.exec(text);
    if (!match) continue;
    const name = match[0];
    i += name.length - 1;
    const isCall = /^\s*\(/.test(text.slice(i + 1));
    if (isCall || KEYWORDS.has(name.toLowerCase())) continue;
    selectors.push({ metric: name, labels: [] });
  }
  return { selectors, groupingLabels };
}

/** A Grafana templating query: `label_values(metric, label)` or plain PromQL. */
export function analyseVariableQuery(query: string): ExprUse {
  const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*$/.exec(query);
  if (!labelValues) return analysePromQL(query);
  const inner = analysePromQL(labelValues[1]!);
  return { selectors: inner.selectors, groupingLabels: [...inner.groupingLabels, labelValues[2]!] };
}
