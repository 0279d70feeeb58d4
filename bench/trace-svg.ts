/**
 * One trace's spans as an SVG waterfall, the way Jaeger's trace view lays them out: one row per
 * span in tree order, indented by depth, a bar from start to end on a shared time axis, errors in
 * red, exec span events as ticks. Pure function of its input (same spans → same bytes).
 */
import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const W = 960;
const LABEL_W = 330;
const PAD = 16;
const ROW = 26;
const TOP = 64;
const BAR_H = 14;

function ns(t: HrTime): number {
  return t[0] * 1e9 + t[1];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  return `${ms >= 10 ? ms.toFixed(0) : ms.toFixed(1)} ms`;
}

/** Spans in depth-first order (children by start time), each with its depth. */
function treeOrder(spans: readonly ReadableSpan[]): Array<{ span: ReadableSpan; depth: number }> {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string, ReadableSpan[]>();
  const roots: ReadableSpan[] = [];
  for (const s of spans) {
    const p = s.parentSpanContext?.spanId;
    if (p === undefined || !ids.has(p)) roots.push(s);
    else children.set(p, [...(children.get(p) ?? []), s]);
  }
  const byStart = (a: ReadableSpan, b: ReadableSpan) => ns(a.startTime) - ns(b.startTime);
  const out: Array<{ span: ReadableSpan; depth: number }> = [];
  const walk = (s: ReadableSpan, depth: number): void => {
    out.push({ span: s, depth });
    for (const c of [...(children.get(s.spanContext().spanId) ?? [])].sort(byStart)) walk(c, depth + 1);
  };
  for (const r of [...roots].sort(byStart)) walk(r, 0);
  return out;
}

/** A tick step (ms) giving 4 to 10 ticks over `totalMs`. */
function tickStep(totalMs: number): number {
  for (const step of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000]) if (totalMs / step <= 10) return step;
  return 300_000;
}

/** Renders the spans of one trace; `title` goes on top. */
export function renderTraceSvg(spans: readonly ReadableSpan[], title: string): string {
  const rows = treeOrder(spans);
  const t0 = Math.min(...spans.map((s) => ns(s.startTime)));
  const t1 = Math.max(...spans.map((s) => ns(s.endTime)));
  const totalMs = Math.max(1, (t1 - t0) / 1e6);
  const x0 = LABEL_W + PAD;
  const plotW = W - x0 - PAD - 60;
  const x = (t: HrTime): number => x0 + ((ns(t) - t0) / 1e6 / totalMs) * plotW;
  const H = TOP + rows.length * ROW + 40;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PAD}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${PAD}" y="44" fill="#555">${rows.length} spans, ${fmtMs(totalMs)}; red: non-zero exit or signal; ticks: exec span events</text>`,
  );
  const step = tickStep(totalMs);
  for (let ms = 0; ms <= totalMs + 1e-9; ms += step) {
    const tx = x0 + (ms / totalMs) * plotW;
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${TOP - 8}" x2="${tx.toFixed(1)}" y2="${H - 30}" stroke="#e4e4e4"/>`,
      `<text x="${tx.toFixed(1)}" y="${H - 14}" fill="#777" text-anchor="middle">${fmtMs(ms)}</text>`,
    );
  }
  rows.forEach(({ span, depth }, i) => {
    const y = TOP + i * ROW;
    const error = span.status.code === 2;
    const pid = span.attributes['process.pid'];
    if (i % 2 === 1) out.push(`<rect x="0" y="${y - 4}" width="${W}" height="${ROW}" fill="#f7f7f9"/>`);
    const label = `${span.name}${pid !== undefined ? ` (pid ${String(pid)})` : ''}${error ? ` · ${span.status.message ?? 'error'}` : ''}`;
    out.push(`<text x="${PAD + depth * 16}" y="${y + 12}"${error ? ' fill="#b52b27"' : ''}>${depth > 0 ? '└ ' : ''}${esc(label)}</text>`);
    const bx = x(span.startTime);
    const bw = Math.max(2, x(span.endTime) - bx);
    out.push(
      `<rect x="${bx.toFixed(1)}" y="${y + 1}" width="${bw.toFixed(1)}" height="${BAR_H}" rx="2" fill="${error ? '#d9534f' : '#4f81bd'}"/>`,
    );
    for (const ev of span.events) {
      const ex = x(ev.time);
      out.push(`<line x1="${ex.toFixed(1)}" y1="${y - 2}" x2="${ex.toFixed(1)}" y2="${y + BAR_H + 4}" stroke="#222" stroke-width="1.5"/>`);
    }
    const durMs = (ns(span.endTime) - ns(span.startTime)) / 1e6;
    out.push(`<text x="${(bx + bw + 6).toFixed(1)}" y="${y + 12}" fill="#333">${fmtMs(durMs)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
