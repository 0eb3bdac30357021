import { useEffect, useRef, useState } from 'react';
import type { Point } from '../types.js';

const H = 160;
const PAD = { top: 10, right: 8, bottom: 22, left: 30 };

/** Rounds a maximum up to a "nice" axis value (1, 2, 5 × 10^n). */
export function niceMax(n: number): number {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  return ([1, 2, 5, 10].find((m) => m * p >= n) ?? 10) * p;
}

const hhmm = (t: number) => new Date(t * 1000).toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit', hour12: false });

/**
 * Events per minute as plain SVG bars (no chart library). The summary in aria-label is what a
 * screen reader announces; each bar has a <title> tooltip.
 */
export function BarChart({ points, label, unit = 'events' }: { points: Point[]; label: string; unit?: string }) {
  // Drawn at the container's real pixel width, so text and bars keep their size on any screen.
  const box = useRef<HTMLDivElement>(null);
  const [W, setW] = useState(640);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => entry && setW(Math.max(200, Math.floor(entry.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const max = niceMax(Math.max(0, ...points.map((p) => p.n)));
  const total = points.reduce((s, p) => s + p.n, 0);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const bw = points.length ? iw / points.length : iw;
  const gap = bw > 6 ? 1.5 : 0.5;
  const ticks = [0, max / 2, max];
  const labelEvery = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(W / 90))));
  return (
    <div ref={box}>
      <svg className="chart" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label}: ${total} ${unit} in the last ${points.length} minutes, at most ${Math.max(0, ...points.map((p) => p.n))} per minute`}>
        {ticks.map((v) => {
          const y = PAD.top + ih - (v / max) * ih;
          return (
            <g key={v}>
              <line className="grid-line" x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} />
              <text x={PAD.left - 6} y={y + 3} textAnchor="end">
                {v}
              </text>
            </g>
          );
        })}
        {points.map((p, i) => {
          const h = (p.n / max) * ih;
          const x = PAD.left + i * bw;
          return (
            <g key={p.t}>
              {p.n > 0 ? (
                <rect className="bar" x={x + gap / 2} y={PAD.top + ih - h} width={Math.max(1, bw - gap)} height={Math.max(1, h)} rx={bw > 6 ? 2 : 0}>
                  <title>{`${hhmm(p.t)} — ${p.n} ${unit}`}</title>
                </rect>
              ) : null}
              {i % labelEvery === 0 ? (
                <text x={x + bw / 2} y={H - 5} textAnchor="middle">
                  {hhmm(p.t)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** One horizontal bar split by category (grants by status). */
export function StackedBar({ parts, label }: { parts: { value: number; tone: 'ok' | 'warn' | 'danger'; name: string }[]; label: string }) {
  const total = parts.reduce((s, p) => s + p.value, 0);
  let x = 0;
  return (
    <svg className="chart stacked-bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label={`${label}: ${parts.map((p) => `${p.value} ${p.name}`).join(', ')}`}>
      <rect x="0" y="0" width="100" height="6" className="track" />
      {total > 0
        ? parts.map((p) => {
            const w = (p.value / total) * 100;
            const r = (
              <rect key={p.name} x={x} y="0" width={w} height="6" className={`seg-${p.tone}`}>
                <title>{`${p.value} ${p.name}`}</title>
              </rect>
            );
            x += w;
            return r;
          })
        : null}
    </svg>
  );
}
