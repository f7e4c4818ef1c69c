// A small hand-written SVG line chart: drain time (log ms) against streams (log), one line per
// server. Points where a server did not finish sit in a labelled band above the data area, each
// an × with the server's name on its own row, so they can never be read as a measured value.

export interface Series {
  name: string;
  /** A CSS colour; by default one of COLORS by the series' index. */
  color?: string;
  /** y null: the run did not finish (an × in the "did not finish" band). */
  points: Array<{ x: number; y: number | null }>;
}

export interface PlotText {
  title: string;
  subtitle: string;
  /** The y axis's name, e.g. "max of 5 drains". */
  yLabel: string;
  /** Lines under the chart: which run it is drawn from. */
  caption: string[];
}

export const COLORS = ['#1b6ac9', '#d1495b', '#e09f1f', '#00798c'];
const W = 720;
const M = { left: 92, right: 200, top: 58 };
const DATA_HEIGHT = 274;
const ROW = 16;
const GAP = 14;
const MARK = 5;

/** Vertical layout: the band (absent when every run finished), then the data area. */
export interface Layout {
  band: { top: number; bottom: number } | undefined;
  dataTop: number;
  dataBottom: number;
  height: number;
}

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function unfinishedByX(series: readonly Series[]): Map<number, number[]> {
  const byX = new Map<number, number[]>();
  series.forEach((s, i) => {
    for (const p of s.points) if (p.y === null) byX.set(p.x, [...(byX.get(p.x) ?? []), i]);
  });
  return byX;
}

export function layout(series: readonly Series[], captionLines = 0): Layout {
  const rows = Math.max(0, ...[...unfinishedByX(series).values()].map((i) => i.length));
  const band = rows > 0 ? { top: M.top, bottom: M.top + rows * ROW + 8 } : undefined;
  const dataTop = band ? band.bottom + GAP : M.top;
  const dataBottom = dataTop + DATA_HEIGHT;
  return { band, dataTop, dataBottom, height: dataBottom + 66 + captionLines * 16 };
}

interface Scales {
  px: (x: number) => number;
  py: (y: number) => number;
  xs: number[];
  yTicks: number[];
}

function scales(series: readonly Series[], box: Layout): Scales {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y): y is number => y !== null && y > 0);
  // Some room either side so the end points do not sit on the axes.
  const pad = 0.08;
  const lxMin = Math.log10(Math.min(...xs, 1000)) - pad;
  const lxMax = Math.log10(Math.max(...xs, 10_000)) + pad;
  const yMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...ys, 100))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 1000)));
  const yTicks: number[] = [];
  for (let y = yMin; y <= yMax * 1.0001; y *= 10) yTicks.push(y);
  return {
    px: (x) => M.left + ((Math.log10(x) - lxMin) / (lxMax - lxMin)) * (W - M.left - M.right),
    py: (y) => box.dataBottom - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * (box.dataBottom - box.dataTop),
    xs,
    yTicks,
  };
}

export interface DidNotFinishMark {
  /** Index of the series. */
  series: number;
  x: number;
  /** Where the × is drawn. */
  cx: number;
  cy: number;
  /** The series' name is written beside the ×, on this side. */
  side: 'left' | 'right';
}

/** Where each did-not-finish × goes: in the band at its x, one row per server that did not finish there. */
export function didNotFinishMarks(series: readonly Series[]): DidNotFinishMark[] {
  const box = layout(series);
  if (!box.band) return [];
  const { px } = scales(series, box);
  const middle = (M.left + W - M.right) / 2;
  const top = box.band.top + 4 + ROW / 2;
  return [...unfinishedByX(series)].flatMap(([x, indices]) =>
    indices.map((i, row) => ({ series: i, x, cx: px(x), cy: top + row * ROW, side: px(x) > middle ? ('left' as const) : ('right' as const) })),
  );
}

const cross = (cx: number, cy: number, r: number): string => `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx - r},${cy + r}L${cx + r},${cy - r}`;

export function drainPlot(series: readonly Series[], text: PlotText): string {
  const box = layout(series, text.caption.length);
  const { px, py, xs, yTicks } = scales(series, box);
  const { dataTop, dataBottom, band } = box;
  const right = W - M.right;
  const color = (i: number): string => series[i]?.color ?? COLORS[i % COLORS.length]!;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${box.height}" viewBox="0 0 ${W} ${box.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${box.height}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15">${esc(text.title)}</text>`,
    `<text x="${M.left}" y="42" fill="#444">${esc(text.subtitle)}</text>`,
  ];
  if (band) {
    // Outside the data area, with its own name where the y ticks are.
    parts.push(`<rect x="${M.left}" y="${band.top}" width="${right - M.left}" height="${band.bottom - band.top}" fill="#f3f3f3" stroke="#bbb" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(band.top + band.bottom) / 2 + 4}" text-anchor="end" fill="#444">did not finish</text>`);
  }
  for (const y of yTicks) {
    parts.push(`<line x1="${M.left}" x2="${right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 1000 ? `${y / 1000} s` : `${y} ms`}</text>`);
  }
  for (const x of xs) {
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${band?.top ?? dataTop}" y2="${dataBottom}" stroke="#eee"/>`);
    parts.push(`<text x="${px(x)}" y="${dataBottom + 16}" text-anchor="middle">${x >= 1000 ? `${x / 1000}k` : x}</text>`);
  }
  parts.push(`<text x="${(M.left + right) / 2}" y="${dataBottom + 36}" text-anchor="middle">xDS streams (log scale)</text>`);
  const yMid = (dataTop + dataBottom) / 2;
  parts.push(`<text x="20" y="${yMid}" text-anchor="middle" transform="rotate(-90 20 ${yMid})">${esc(text.yLabel)} (log scale)</text>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${dataTop}" y2="${dataBottom}" stroke="black"/>`);
  parts.push(`<line x1="${M.left}" x2="${right}" y1="${dataBottom}" y2="${dataBottom}" stroke="black"/>`);
  series.forEach((s, i) => {
    const done = s.points.filter((p) => p.y !== null).sort((a, b) => a.x - b.x);
    if (done.length > 1) parts.push(`<polyline fill="none" stroke="${color(i)}" stroke-width="2" points="${done.map((p) => `${px(p.x)},${py(p.y!)}`).join(' ')}"/>`);
    for (const p of done) parts.push(`<circle cx="${px(p.x)}" cy="${py(p.y!)}" r="4" fill="${color(i)}"><title>${esc(s.name)}: ${p.x} streams, ${p.y!.toFixed(0)} ms</title></circle>`);
    const ly = dataTop + 10 + i * 22;
    parts.push(`<line x1="${right + 16}" x2="${right + 38}" y1="${ly}" y2="${ly}" stroke="${color(i)}" stroke-width="2"/>`);
    parts.push(`<circle cx="${right + 27}" cy="${ly}" r="4" fill="${color(i)}"/>`);
    parts.push(`<text x="${right + 44}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  const marks = didNotFinishMarks(series);
  for (const m of marks) {
    const name = esc(series[m.series]!.name);
    parts.push(`<path d="${cross(m.cx, m.cy, MARK)}" stroke="${color(m.series)}" stroke-width="2.5"><title>${name}: ${m.x} streams, did not finish</title></path>`);
    const tx = m.side === 'left' ? m.cx - MARK - 5 : m.cx + MARK + 5;
    parts.push(`<text x="${tx}" y="${m.cy + 4}" text-anchor="${m.side === 'left' ? 'end' : 'start'}" fill="${color(m.series)}">${name}</text>`);
  }
  if (marks.length > 0) {
    const ly = dataTop + 10 + series.length * 22 + 6;
    parts.push(`<path d="${cross(right + 27, ly, MARK)}" stroke="#444" stroke-width="2.5"/>`);
    parts.push(`<text x="${right + 44}" y="${ly + 4}">did not finish</text>`);
    parts.push(`<text x="${right + 44}" y="${ly + 20}" fill="#444">(in the top band)</text>`);
  }
  text.caption.forEach((line, i) => parts.push(`<text x="${M.left}" y="${dataBottom + 62 + i * 16}" fill="#444" font-size="11">${esc(line)}</text>`));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
