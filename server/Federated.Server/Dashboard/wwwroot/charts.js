'use strict';
// Hand-drawn SVG charts: every chart has labelled axes with units and a title.
const Charts = (() => {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 520, H = 240, M = { left: 64, right: 16, top: 28, bottom: 44 };

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function ticks(min, max, count) {
    if (!(max > min)) { max = min + 1; }
    const raw = (max - min) / count;
    const step = Math.pow(10, Math.floor(Math.log10(raw)));
    const nice = [1, 2, 5, 10].map(m => m * step).find(s => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(min / nice) * nice; v <= max + nice * 1e-9; v += nice) out.push(+v.toPrecision(12));
    return out;
  }

  function frame(title, xLabel, yLabel, xs, ys, formatY) {
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
    svg.appendChild(el('text', { x: W / 2, y: 16, class: 'chart-title', 'text-anchor': 'middle' }, title));
    const x = v => M.left + (xs.max === xs.min ? 0.5 : (v - xs.min) / (xs.max - xs.min)) * (W - M.left - M.right);
    const y = v => H - M.bottom - (ys.max === ys.min ? 0.5 : (v - ys.min) / (ys.max - ys.min)) * (H - M.top - M.bottom);
    svg.appendChild(el('line', { x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom, class: 'axis' }));
    svg.appendChild(el('line', { x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom, class: 'axis' }));
    for (const t of ticks(ys.min, ys.max, 4)) {
      svg.appendChild(el('line', { x1: M.left, y1: y(t), x2: W - M.right, y2: y(t), class: 'grid' }));
      svg.appendChild(el('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, formatY ? formatY(t) : t));
    }
    for (const t of xs.ticks || ticks(xs.min, xs.max, 6)) {
      svg.appendChild(el('text', { x: x(t), y: H - M.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, t));
    }
    svg.appendChild(el('text', { x: (M.left + W - M.right) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis-label' }, xLabel));
    svg.appendChild(el('text', { x: 14, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 14 ${(M.top + H - M.bottom) / 2})` }, yLabel));
    return { svg, x, y };
  }

  function range(values, pad) {
    let min = Math.min(...values), max = Math.max(...values);
    if (!isFinite(min)) { min = 0; max = 1; }
    if (pad && max > min) { const d = (max - min) * 0.1; min -= d; max += d; }
    if (max === min) { max = min + 1; }
    return { min, max };
  }

  /** points: [{x, y}] (x: round). One point per round, joined by a line. */
  function line(title, xLabel, yLabel, points, formatY) {
    const xs = range(points.map(p => p.x).concat([0, 1]));
    xs.ticks = ticks(xs.min, xs.max, 6).filter(Number.isInteger);
    const { svg, x, y } = frame(title, xLabel, yLabel, xs, range(points.map(p => p.y), true), formatY);
    if (points.length > 0) {
      svg.appendChild(el('polyline', { points: points.map(p => `${x(p.x)},${y(p.y)}`).join(' '), class: 'series' }));
      for (const p of points) {
        const dot = el('circle', { cx: x(p.x), cy: y(p.y), r: 3.5, class: 'point', 'data-x': p.x });
        dot.appendChild(el('title', {}, `round ${p.x}: ${formatY ? formatY(p.y) : p.y}`));
        svg.appendChild(dot);
      }
    }
    return svg;
  }

  /** bars: [{x, parts: [{value, label}]}] stacked upwards, one bar per round. */
  function stacked(title, xLabel, yLabel, bars, formatY) {
    const totals = bars.map(b => b.parts.reduce((s, p) => s + p.value, 0));
    const xs = { min: 0.5, max: Math.max(1, bars.length) + 0.5, ticks: bars.map(b => b.x) };
    const ys = { min: 0, max: (Math.max(0, ...totals) || 1) * 1.1 };
    const { svg, x, y } = frame(title, xLabel, yLabel, xs, ys, formatY);
    const width = Math.max(4, Math.min(40, (W - M.left - M.right) / Math.max(1, bars.length) * 0.6));
    for (const bar of bars) {
      let base = 0;
      bar.parts.forEach((part, i) => {
        const rect = el('rect', { x: x(bar.x) - width / 2, y: y(base + part.value), width, height: Math.max(0, y(base) - y(base + part.value)), class: `bar bar-${i % 8}` });
        rect.appendChild(el('title', {}, `round ${bar.x}: ${part.label}`));
        svg.appendChild(rect);
        base += part.value;
      });
    }
    return svg;
  }

  /** rows: [{label, start, end, pieces: [{from, to, kind}]}] in seconds since the round started; marks: [{at, label}]. */
  function gantt(title, rows, marks, axisLabel) {
    const rowH = 18, GW = 1100;
    const height = M.top + rows.length * rowH + M.bottom;
    const max = Math.max(1, ...rows.map(r => r.end), ...marks.map(m => m.at));
    const svg = el('svg', { viewBox: `0 0 ${GW} ${height}`, class: 'chart gantt', role: 'img', 'aria-label': title });
    svg.appendChild(el('text', { x: GW / 2, y: 16, class: 'chart-title', 'text-anchor': 'middle' }, title));
    const left = 240;
    const x = v => left + v / max * (GW - left - M.right);
    rows.forEach((row, i) => {
      const top = M.top + i * rowH;
      svg.appendChild(el('text', { x: left - 6, y: top + rowH * 0.7, 'text-anchor': 'end', class: 'tick' }, row.label));
      for (const piece of row.pieces) {
        const rect = el('rect', { x: x(piece.from), y: top + 2, width: Math.max(1, x(piece.to) - x(piece.from)), height: rowH - 4, class: `task task-${piece.kind}` });
        rect.appendChild(el('title', {}, `${row.label}: ${piece.kind} ${piece.from.toFixed(1)}–${piece.to.toFixed(1)} s`));
        svg.appendChild(rect);
      }
    });
    const bottom = M.top + rows.length * rowH;
    svg.appendChild(el('line', { x1: left, y1: bottom, x2: GW - M.right, y2: bottom, class: 'axis' }));
    for (const t of ticks(0, max, 6)) svg.appendChild(el('text', { x: x(t), y: bottom + 16, 'text-anchor': 'middle', class: 'tick' }, t));
    for (const m of marks) {
      svg.appendChild(el('line', { x1: x(m.at), y1: M.top - 4, x2: x(m.at), y2: bottom, class: 'mark' }));
      svg.appendChild(el('text', { x: x(m.at), y: M.top - 6, 'text-anchor': 'end', class: 'tick' }, m.label));
    }
    svg.appendChild(el('text', { x: (left + GW - M.right) / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis-label' }, axisLabel || 'seconds since the round started (download, then training)'));
    return svg;
  }

  /** A small trend line without axes (values over time, newest right). */
  function spark(values) {
    const svg = el('svg', { viewBox: '0 0 80 20', class: 'spark', role: 'img', 'aria-label': 'seconds per step, oldest to newest' });
    if (values.length > 1) {
      const r = range(values);
      svg.appendChild(el('polyline', { points: values.map((v, i) => `${i / (values.length - 1) * 78 + 1},${19 - (v - r.min) / (r.max - r.min) * 18}`).join(' '), class: 'series' }));
    }
    return svg;
  }

  return { line, stacked, gantt, spark };
})();
