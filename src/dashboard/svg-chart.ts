/**
 * Bar charts as inline SVG rendered on the server: no chart library, no script, nothing to fetch,
 * and the numbers are in the markup for screen readers (`<title>` per bar) and tests
 * (`data-total`). Colours are presentation attributes (a CSP without `unsafe-inline` blocks
 * `style=`); every chart is paired with a table, so nothing depends on colour.
 */
import { html, type SafeHtml } from './html-template.js';

export interface ChartPoint {
  label: string;
  value: number;
}

export interface BarChartOptions {
  /** Accessible name, e.g. "Spend per hour (USD)". */
  title: string;
  points: readonly ChartPoint[];
  /** How a value is written in labels and titles. */
  format: (value: number) => string;
  /** Identifies the chart for tests and links (`data-chart`). */
  id: string;
  width?: number;
  height?: number;
}

/** A bar chart with a y-axis maximum label and first/last x labels. */
export function barChart(o: BarChartOptions): SafeHtml {
  const width = o.width ?? 720;
  const height = o.height ?? 180;
  const pad = { left: 8, right: 8, top: 18, bottom: 22 };
  const max = Math.max(0, ...o.points.map((p) => p.value));
  const total = o.points.reduce((s, p) => s + p.value, 0);
  const n = Math.max(1, o.points.length);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / n;
  const barW = Math.max(1, slot * 0.8);
  const bars = o.points.map((p, i) => {
    const h = max === 0 ? 0 : (p.value / max) * plotH;
    const x = pad.left + i * slot + (slot - barW) / 2;
    const y = pad.top + plotH - h;
    return html`<rect
      class="bar"
      x="${x.toFixed(1)}"
      y="${y.toFixed(1)}"
      width="${barW.toFixed(1)}"
      height="${Math.max(h, p.value > 0 ? 1 : 0).toFixed(1)}"
      fill="#3b6ea8"
      data-value="${p.value}"
      ><title>${p.label}: ${o.format(p.value)}</title></rect
    >`;
  });
  const first = o.points[0]?.label ?? '';
  const last = o.points[o.points.length - 1]?.label ?? '';
  return html`<figure
    class="chart"
    data-chart="${o.id}"
    data-total="${total}"
    data-points="${o.points.length}"
  >
    <svg
      role="img"
      aria-label="${o.title}. Total ${o.format(total)}, maximum ${o.format(max)}."
      viewBox="0 0 ${width} ${height}"
      width="100%"
    >
      <line
        x1="${pad.left}"
        y1="${pad.top + plotH}"
        x2="${width - pad.right}"
        y2="${pad.top + plotH}"
        stroke="#555"
        stroke-width="1"
      />
      ${bars}
      <text x="${pad.left}" y="12" font-size="11" fill="#333">max ${o.format(max)}</text>
      <text x="${pad.left}" y="${height - 6}" font-size="11" fill="#333">${first}</text>
      <text x="${width - pad.right}" y="${height - 6}" font-size="11" fill="#333" text-anchor="end">
        ${last}
      </text>
    </svg>
    <figcaption>${o.title} — total <strong class="chart-total">${o.format(total)}</strong></figcaption>
  </figure>`;
}
