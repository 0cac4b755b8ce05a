// A small time-series chart on a canvas: lines with gaps, time and value axes, a hover
// read-out. Written here rather than taken from a library so the page works offline, ships
// inside the binary and draws gaps (outages, resets) as gaps.
"use strict";

class TimeChart {
  /** `format(value)` writes axis labels and the read-out; `gapMs(series)` is the longest
   *  distance between points still joined by a line. */
  constructor(canvas, { format, gapMs }) {
    this.canvas = canvas;
    this.format = format;
    this.gapMs = gapMs;
    this.series = [];
    this.markers = [];
    this.xmin = 0;
    this.xmax = 1;
    this.hoverX = null;
    this.tooltip = document.createElement("div");
    this.tooltip.className = "tooltip";
    this.tooltip.hidden = true;
    canvas.parentElement.appendChild(this.tooltip);
    canvas.addEventListener("pointermove", (e) => this.hover(e));
    canvas.addEventListener("pointerdown", (e) => this.hover(e));
    canvas.addEventListener("pointerleave", () => { this.hoverX = null; this.draw(); });
    new ResizeObserver(() => this.draw()).observe(canvas.parentElement);
  }

  /** series: [{name, color, points: [[t, value|null], …]}] */
  setData(series, xmin, xmax) {
    this.series = series;
    this.xmin = xmin;
    this.xmax = Math.max(xmax, xmin + 1);
    this.draw();
  }

  /** markers: [{t, color, label, strong}], `color` a CSS colour or a custom property (`--warn`),
   *  read when drawn so that a change of colour scheme recolours them. Drawn at the next draw. */
  setMarkers(markers) {
    this.markers = markers;
  }

  hover(event) {
    const rect = this.canvas.getBoundingClientRect();
    this.hoverX = event.clientX - rect.left;
    this.draw();
  }

  static niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const unit = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw) * power;
    return unit;
  }

  static timeStep(spanMs, count) {
    const steps = [1e3, 5e3, 15e3, 3e4, 6e4, 3e5, 6e5, 9e5, 18e5, 36e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5];
    return steps.find((s) => spanMs / s <= count) || steps[steps.length - 1];
  }

  timeLabel(t, step) {
    const d = new Date(t);
    const two = (n) => String(n).padStart(2, "0");
    const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
    if (step < 6e4) return `${hm}:${two(d.getSeconds())}`;
    if (step >= 864e5 || (d.getHours() === 0 && d.getMinutes() === 0 && this.xmax - this.xmin > 864e5)) {
      return `${d.getMonth() + 1}/${d.getDate()}` + (step >= 864e5 ? "" : ` ${hm}`);
    }
    return hm;
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(document.documentElement);
    const fg = style.getPropertyValue("--muted").trim() || "#666";
    const grid = style.getPropertyValue("--line").trim() || "#ddd";
    ctx.font = "11px system-ui, sans-serif";

    let ymax = 0;
    let drawn = 0;
    for (const s of this.series) {
      for (const [t, v] of s.points) if (v != null && t >= this.xmin && t <= this.xmax && v > ymax) ymax = v;
    }
    const ystep = ymax > 0 ? TimeChart.niceStep(ymax, 4) : 1;
    ymax = Math.max(ystep, Math.ceil(ymax / ystep) * ystep);
    const labels = [];
    for (let v = 0; v <= ymax + ystep / 2; v += ystep) labels.push(v);
    const left = 8 + Math.max(...labels.map((v) => ctx.measureText(this.format(v)).width));
    const right = width - 10, top = 8, bottom = height - 20;
    const x = (t) => left + ((t - this.xmin) / (this.xmax - this.xmin)) * (right - left);
    const y = (v) => bottom - (v / ymax) * (bottom - top);

    ctx.strokeStyle = grid;
    ctx.fillStyle = fg;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of labels) {
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y(v)) + 0.5);
      ctx.lineTo(right, Math.round(y(v)) + 0.5);
      ctx.stroke();
      ctx.fillText(this.format(v), left - 4, y(v));
    }
    const tstep = TimeChart.timeStep(this.xmax - this.xmin, Math.max(2, Math.floor((right - left) / 80)));
    const offset = new Date(this.xmin).getTimezoneOffset() * 6e4;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let t = Math.ceil((this.xmin - offset) / tstep) * tstep + offset; t <= this.xmax; t += tstep) {
      ctx.fillText(this.timeLabel(t, tstep), x(t), bottom + 4);
    }

    // Under the lines, which stay readable where events crowd; dashed, so that no marker is
    // taken for a series of the same colour.
    let marked = 0;
    for (const m of this.markers) {
      if (m.t < this.xmin || m.t > this.xmax) continue;
      const color = m.color.startsWith("--") ? style.getPropertyValue(m.color).trim() || fg : m.color;
      const px = Math.round(x(m.t)) + 0.5;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = m.strong ? 2 : 1;
      ctx.globalAlpha = m.strong ? 0.9 : 0.6;
      ctx.setLineDash(m.strong ? [] : [3, 3]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      ctx.beginPath();
      ctx.moveTo(px - 4, top - 2);
      ctx.lineTo(px + 4, top - 2);
      ctx.lineTo(px, top + 5);
      ctx.closePath();
      ctx.fill();
      marked++;
    }
    canvas.dataset.markers = String(marked);

    ctx.lineWidth = 1.5;
    ctx.lineJoin = "round";
    for (const s of this.series) {
      const gap = this.gapMs(s);
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.beginPath();
      let previous = null;
      for (const [t, v] of s.points) {
        if (v == null || t < this.xmin || t > this.xmax) { previous = null; continue; }
        if (previous !== null && t - previous <= gap) {
          ctx.lineTo(x(t), y(v));
        } else {
          ctx.moveTo(x(t), y(v));
          ctx.fillRect(x(t) - 1, y(v) - 1, 2, 2); // a lone point stays visible
        }
        previous = t;
        drawn++;
      }
      ctx.stroke();
    }
    canvas.dataset.points = String(drawn);
    this.drawHover(ctx, x, y, left, right, top, bottom);
  }

  drawHover(ctx, x, y, left, right, top, bottom) {
    if (this.hoverX == null || this.hoverX < left || this.hoverX > right || this.series.length === 0) {
      this.tooltip.hidden = true;
      return;
    }
    const t = this.xmin + ((this.hoverX - left) / (right - left)) * (this.xmax - this.xmin);
    let nearest = null;
    for (const s of this.series) {
      for (const p of s.points) {
        if (p[1] != null && (nearest === null || Math.abs(p[0] - t) < Math.abs(nearest - t))) nearest = p[0];
      }
    }
    if (nearest === null) { this.tooltip.hidden = true; return; }
    ctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--muted");
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(Math.round(x(nearest)) + 0.5, top);
    ctx.lineTo(Math.round(x(nearest)) + 0.5, bottom);
    ctx.stroke();
    const rows = [];
    for (const s of this.series) {
      const p = s.points.find((q) => q[0] === nearest);
      if (!p) continue;
      rows.push(`<div><i style="--c:${s.color}"></i>${escapeHTML(s.name)}: ${p[1] == null ? "–" : this.format(p[1], true)}</div>`);
    }
    // Events under the pointer, by their marker's place rather than the nearest sample's.
    const near = this.markers.filter((m) => m.t >= this.xmin && m.t <= this.xmax && Math.abs(x(m.t) - this.hoverX) <= 4);
    for (const m of near.slice(0, 3)) rows.push(`<div class="mark">${escapeHTML(m.label)}</div>`);
    if (near.length > 3) rows.push(`<div class="mark">and ${near.length - 3} more events</div>`);
    this.tooltip.innerHTML = `<b>${new Date(nearest).toLocaleString()}</b>` + rows.join("");
    this.tooltip.hidden = false;
    const box = this.tooltip.getBoundingClientRect();
    const px = x(nearest);
    this.tooltip.style.left = `${px + 12 + box.width > right ? px - 12 - box.width : px + 12}px`;
    this.tooltip.style.top = `${top + 4}px`;
  }
}

function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
