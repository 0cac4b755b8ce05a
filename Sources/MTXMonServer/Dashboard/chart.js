// A small time-series chart on a canvas: lines with gaps, time and value axes, a hover
// read-out, drag-to-zoom and a crosshair shared with its peers. Written here rather than taken
// from a library so the page works offline, ships inside the binary and draws gaps (outages,
// resets) as gaps.
"use strict";

/** The one clock of the page: every time it shows (header, table, timeline, axes, read-outs)
 *  goes through here, so none is in 12 h while another is in 24 h. 24 h unless the browser's
 *  locale asks for 12 h. */
const Clock = (() => {
  const hour12 = new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hour12 === true;
  const seconds = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit", hour12 });
  const minutes = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", hour12 });
  const day = (d) => `${d.getMonth() + 1}/${d.getDate()}`;
  const pad = (text) => (hour12 ? text : text.padStart(text.indexOf(":") === 1 ? text.length + 1 : text.length, "0"));
  return {
    hour12,
    /** 14:04:31 (or 2:04:31 PM), with the date in front when it is not today's. */
    time(ms, { withSeconds = true, withDate = "auto" } = {}) {
      const d = new Date(ms);
      const text = pad((withSeconds ? seconds : minutes).format(d));
      const dated = withDate === true || (withDate === "auto" && d.toDateString() !== new Date().toDateString());
      return dated ? `${day(d)} ${text}` : text;
    },
    day,
  };
})();

class TimeChart {
  /** `format(value)` writes axis labels and the read-out; `gapMs(series)` is the longest
   *  distance between points still joined by a line; `onZoom(from, to)` takes a dragged span;
   *  `onHover(t)` tells the peers where the crosshair stands (null: nowhere). */
  constructor(canvas, { format, gapMs, onZoom = null, onHover = null }) {
    this.canvas = canvas;
    this.format = format;
    this.gapMs = gapMs;
    this.onZoom = onZoom;
    this.onHover = onHover;
    this.series = [];
    this.markers = [];
    this.xmin = 0;
    this.xmax = 1;
    this.hoverT = null;
    // Whether the pointer is over this chart (its read-out shows) or a peer's (the line only).
    this.pointerHere = false;
    this.drag = null;
    this.frame = { left: 0, right: 1, top: 0, bottom: 1 };
    this.tooltip = document.createElement("div");
    this.tooltip.className = "tooltip";
    this.tooltip.hidden = true;
    canvas.parentElement.appendChild(this.tooltip);
    canvas.addEventListener("pointermove", (e) => this.pointer(e));
    canvas.addEventListener("pointerdown", (e) => this.startDrag(e));
    canvas.addEventListener("pointerup", (e) => this.endDrag(e));
    canvas.addEventListener("pointercancel", () => { this.drag = null; this.draw(); });
    canvas.addEventListener("pointerleave", () => {
      if (this.drag) return;
      this.hoverT = null;
      this.pointerHere = false;
      this.draw();
      this.onHover?.(null);
    });
    new ResizeObserver(() => this.draw()).observe(canvas.parentElement);
  }

  /** series: [{name, color, points: [[t, value|null], …]}] */
  setData(series, xmin, xmax) {
    this.series = series;
    this.xmin = xmin;
    this.xmax = Math.max(xmax, xmin + 1);
    this.draw();
  }

  /** markers: [{t, color, label, strong, rank}], `color` a CSS colour or a custom property
   *  (`--warn`), read when drawn so that a change of colour scheme recolours them. Drawn at the
   *  next draw. */
  setMarkers(markers) {
    this.markers = markers;
  }

  /** A peer's crosshair: the line at `t` here too, without this chart's read-out. */
  showAt(t) {
    if (this.pointerHere) return;
    this.hoverT = t;
    this.draw();
  }

  timeAt(clientX) {
    const rect = this.canvas.getBoundingClientRect();
    const { left, right } = this.frame;
    const px = Math.min(right, Math.max(left, clientX - rect.left));
    return this.xmin + ((px - left) / (right - left)) * (this.xmax - this.xmin);
  }

  pointer(event) {
    const rect = this.canvas.getBoundingClientRect();
    const px = event.clientX - rect.left;
    this.pointerHere = true;
    this.hoverT = px >= this.frame.left && px <= this.frame.right ? this.timeAt(event.clientX) : null;
    if (this.drag) this.drag.to = this.timeAt(event.clientX);
    this.draw();
    this.onHover?.(this.hoverT);
  }

  startDrag(event) {
    if (event.button !== 0 || !this.onZoom) { this.pointer(event); return; }
    const t = this.timeAt(event.clientX);
    this.drag = { from: t, to: t, x: event.clientX };
    this.canvas.setPointerCapture?.(event.pointerId);
    this.pointer(event);
  }

  /** A drag of a few pixels is a click (the read-out stays); a longer one zooms to its span. */
  endDrag(event) {
    const drag = this.drag;
    this.drag = null;
    if (!drag) return;
    if (Math.abs(event.clientX - drag.x) >= 6) {
      const from = Math.min(drag.from, drag.to), to = Math.max(drag.from, drag.to);
      if (to - from >= 1000) this.onZoom(from, to);
    }
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
    if (step < 6e4) return Clock.time(t, { withDate: false });
    const hm = Clock.time(t, { withSeconds: false, withDate: false });
    if (step >= 864e5) return Clock.day(d);
    if (d.getHours() === 0 && d.getMinutes() === 0 && this.xmax - this.xmin > 864e5) return `${Clock.day(d)} ${hm}`;
    return hm;
  }

  /** Markers closer than a few pixels become one, drawn in the gravest member's colour with
   *  their count beside it: a busy hour is a handful of marks, not a comb over the lines. */
  clusters(x) {
    const shown = this.markers.filter((m) => m.t >= this.xmin && m.t <= this.xmax).sort((a, b) => a.t - b.t);
    const groups = [];
    for (const m of shown) {
      const px = x(m.t);
      const last = groups[groups.length - 1];
      if (last && px - last.x0 <= 10) {
        last.members.push(m);
        last.x1 = px;
      } else groups.push({ x0: px, x1: px, members: [m] });
    }
    for (const g of groups) {
      g.x = (g.x0 + g.x1) / 2;
      g.head = g.members.reduce((a, b) => ((b.rank ?? 0) > (a.rank ?? 0) || b.strong ? b : a));
      g.strong = g.members.some((m) => m.strong);
    }
    return groups;
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
    const right = width - 10, top = 14, bottom = height - 20;
    this.frame = { left, right, top, bottom };
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
    const labelWidth = Clock.hour12 ? 110 : 80;
    const tstep = TimeChart.timeStep(this.xmax - this.xmin, Math.max(2, Math.floor((right - left) / labelWidth)));
    const offset = new Date(this.xmin).getTimezoneOffset() * 6e4;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    const axis = [];
    for (let t = Math.ceil((this.xmin - offset) / tstep) * tstep + offset; t <= this.xmax; t += tstep) {
      const label = this.timeLabel(t, tstep);
      axis.push(label);
      ctx.fillText(label, x(t), bottom + 4);
    }
    canvas.dataset.axis = axis.join("|");

    // Under the lines, which stay readable where events crowd; dashed, so that no marker is
    // taken for a series of the same colour.
    const groups = this.clusters(x);
    let marked = 0;
    for (const g of groups) {
      const m = g.head;
      const color = m.color.startsWith("--") ? style.getPropertyValue(m.color).trim() || fg : m.color;
      const px = Math.round(g.x) + 0.5;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = g.strong ? 2 : 1;
      ctx.globalAlpha = g.strong ? 0.9 : 0.6;
      ctx.setLineDash(g.strong ? [] : [3, 3]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
      ctx.beginPath();
      ctx.moveTo(px - 4, top - 8);
      ctx.lineTo(px + 4, top - 8);
      ctx.lineTo(px, top - 1);
      ctx.closePath();
      ctx.fill();
      if (g.members.length > 1) {
        ctx.textAlign = "left";
        ctx.textBaseline = "top";
        ctx.fillText(String(g.members.length), px + 5, top - 12);
      }
      marked += g.members.length;
    }
    canvas.dataset.markers = String(marked);
    canvas.dataset.clusters = String(groups.length);

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
    if (this.drag && this.drag.from !== this.drag.to) {
      const a = x(Math.min(this.drag.from, this.drag.to)), b = x(Math.max(this.drag.from, this.drag.to));
      ctx.fillStyle = style.getPropertyValue("--accent").trim() || "#2563eb";
      ctx.globalAlpha = 0.15;
      ctx.fillRect(a, top, b - a, bottom - top);
      ctx.globalAlpha = 1;
    }
    this.drawHover(ctx, x, y, groups);
  }

  /** Each series' point nearest the crosshair, within the distance its line would join: series
   *  polled at different instants (a fleet's servers) each show their own reading. */
  nearest(s, t) {
    let best = null;
    for (const p of s.points) {
      if (p[1] != null && (best === null || Math.abs(p[0] - t) < Math.abs(best[0] - t))) best = p;
    }
    return best && Math.abs(best[0] - t) <= this.gapMs(s) ? best : null;
  }

  drawHover(ctx, x, y, groups) {
    const { left, right, top, bottom } = this.frame;
    const t = this.hoverT;
    if (t == null || t < this.xmin || t > this.xmax) {
      this.tooltip.hidden = true;
      this.canvas.dataset.crosshair = "";
      return;
    }
    const style = getComputedStyle(document.documentElement);
    const px = Math.round(x(t)) + 0.5;
    ctx.strokeStyle = style.getPropertyValue("--muted");
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, bottom);
    ctx.stroke();
    this.canvas.dataset.crosshair = String(Math.round(t));
    const rows = [];
    for (const s of this.series) {
      const p = this.nearest(s, t);
      if (!p) continue;
      ctx.fillStyle = s.color;
      ctx.beginPath();
      ctx.arc(x(p[0]), y(p[1]), 3, 0, 2 * Math.PI);
      ctx.fill();
      const when = Math.abs(p[0] - t) >= 1000 ? ` <span class="muted">at ${Clock.time(p[0], { withDate: false })}</span>` : "";
      rows.push(`<div data-series="${escapeHTML(s.name)}"><i style="--c:${s.color}"></i>${escapeHTML(s.name)}: ${this.format(p[1], true)}${when}</div>`);
    }
    if (!this.pointerHere) { this.tooltip.hidden = true; return; }
    // Events under the pointer, by their marker's place rather than the nearest sample's.
    const near = groups.filter((g) => Math.abs(g.x - px) <= 6).flatMap((g) => g.members);
    for (const m of near.slice(0, 3)) rows.push(`<div class="mark">${escapeHTML(m.label)}</div>`);
    if (near.length > 3) rows.push(`<div class="mark">and ${near.length - 3} more events</div>`);
    if (!rows.length) { this.tooltip.hidden = true; return; }
    this.tooltip.innerHTML = `<b>${Clock.time(t)}</b>` + rows.join("");
    this.tooltip.hidden = false;
    const box = this.tooltip.getBoundingClientRect();
    this.tooltip.style.left = `${px + 12 + box.width > right ? Math.max(0, px - 12 - box.width) : px + 12}px`;
    this.tooltip.style.top = `${top + 4}px`;
  }
}

function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
