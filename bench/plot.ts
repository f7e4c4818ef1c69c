// A small hand-written SVG line chart: drain p99 (log ms) against streams (log), one line per server.

export interface Series {
  name: string;
  /** y null: the run did not finish (drawn as a cross at the top edge). */
  points: Array<{ x: number; y: number | null }>;
}

const COLORS = ['#1b6ac9', '#d1495b', '#edae49', '#00798c'];
const W = 640;
const H = 400;
const M = { left: 70, right: 150, top: 30, bottom: 50 };

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function drainPlot(series: readonly Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter((y): y is number => y !== null && y > 0);
  const xMin = Math.min(...xs, 1000);
  const xMax = Math.max(...xs, 10_000);
  const yMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...ys, 100))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 1000)));
  const px = (x: number): number => M.left + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * (H - M.top - M.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="18" font-size="14">Drain → DRAINING at every stream, p99 (E=30k, N=600, K=3)</text>`,
  ];
  for (let y = yMin; y <= yMax * 1.0001; y *= 10) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 1000 ? `${y / 1000} s` : `${y} ms`}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${px(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${x >= 1000 ? `${x / 1000}k` : x}</text>`);
  }
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">xDS streams (log)</text>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="black"/>`);
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="black"/>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const done = s.points.filter((p) => p.y !== null).sort((a, b) => a.x - b.x);
    if (done.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${done.map((p) => `${px(p.x)},${py(p.y!)}`).join(' ')}"/>`);
    for (const p of done) parts.push(`<circle cx="${px(p.x)}" cy="${py(p.y!)}" r="4" fill="${color}"><title>${esc(s.name)}: ${p.x} streams, ${p.y!.toFixed(0)} ms</title></circle>`);
    for (const p of s.points.filter((q) => q.y === null)) {
      const x = px(p.x);
      const y = M.top + 4;
      parts.push(`<path d="M${x - 5},${y - 5}L${x + 5},${y + 5}M${x - 5},${y + 5}L${x + 5},${y - 5}" stroke="${color}" stroke-width="2"><title>${esc(s.name)}: ${p.x} streams, did not finish</title></path>`);
    }
    const ly = M.top + 10 + i * 20;
    parts.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - M.right + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push(`<text x="${W - M.right + 12}" y="${M.top + 10 + series.length * 20 + 10}" fill="#555">× = did not finish</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
