// The dashboard: the latest snapshot as a table, the selected paths' history as charts with
// their events under them, all kept current from the WebSocket feed. State that a link should
// carry lives in the URL.
//
// A path is (server, name): a fleet's servers may each have a `cam1`. Everything kept per path
// (selection, series, colours, the URL) uses its id, `server/name` while several servers are
// known and the bare name while there is one, so a one-server install keeps its links and
// labels. Server names have no `/`, so an id splits at its first one.
"use strict";

const RANGES = { "15m": 15 * 6e4, "1h": 36e5, "6h": 6 * 36e5, "24h": 864e5, "7d": 7 * 864e5 };
/** Step per range: raw samples up to an hour, then buckets that keep a chart near 1,000 points. */
const STEPS = { "15m": null, "1h": null, "6h": 30e3, "24h": 60e3, "7d": 600e3 };
const NICE_STEPS = [10e3, 30e3, 60e3, 300e3, 600e3, 1800e3, 3600e3, 3 * 36e5, 6 * 36e5, 864e5];
/** Series colours: none is near the severities' green, amber and red (light or dark) or the
 *  muted grey of info markers, so a line is never read as a warning. */
const COLORS = ["#2563eb", "#db2777", "#0d9488", "#7c3aed", "#06b6d4", "#84cc16", "#e879f9", "#0369a1"];
const FIELDS = "bitrateIn,bitrateOut,readers,rttMs,linkCapacityMbps";
const MAX_SELECTED = COLORS.length;
/** The shortest span a young history opens on. */
const FIRST_SPAN_MS = 2 * 6e4;
/** A snapshot older than this many intervals is stale, as the server's own `stale` flag says. */
const STALE_INTERVALS = 3;
const SECOND = {
  readers: { format: (v) => String(Math.round(v * 100) / 100) },
  rttMs: { format: (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` },
  bitrateOut: { format: (v, exact) => formatBitrate(v, exact) },
  linkCapacityMbps: { format: (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)} Mbit/s` },
};

/** Table order by state, ahead of any sort column: what is live first, what is gone last. */
const STATE_ORDER = { online: 0, unknown: 1, offline: 2 };

const state = {
  // `to: null` with no range: from a fixed start up to now, following the feed.
  range: "1h", from: null, to: null, step: null, xmin: 0, xmax: 0,
  // A range the URL or a click named stays put; the opening one adapts to the history held.
  rangeChosen: false, rangeSettled: false, askingReach: false,
  selected: [], second: "readers", sort: { key: "name", dir: 1 }, filter: "", serverFilter: "",
  // A count clicked in the now bar: which paths the table keeps (online, offline, unknown,
  // problems), on one server or all.
  stateFilter: null, stateServer: null,
  // The URL's paths wait for the first snapshot, which says which servers there are.
  urlPaths: null,
  // The newest message's `servers`; `serverInfo` adds what only GET /api/v1/servers says.
  servers: [], serverInfo: new Map(), serverInfoAt: 0, askingServers: false,
  snapshot: null, intervalMs: 2000, series: new Map(), historySeq: 0,
  ws: null, retryTimer: null, snapshots: 0, updates: 0, retryMs: 1000,
  clockOffsetMs: 0, clockPingAt: 0, needToken: false,
};

const $ = (id) => document.getElementById(id);

function formatBitrate(v, exact) {
  if (v == null) return "–";
  const units = [[1e9, "Gbit/s"], [1e6, "Mbit/s"], [1e3, "kbit/s"]];
  for (const [size, unit] of units) {
    if (Math.abs(v) >= size) {
      const n = v / size;
      return `${n.toFixed(exact || n < 10 ? 2 : n < 100 ? 1 : 0).replace(/\.?0+$/, "")} ${unit}`;
    }
  }
  return `${Math.round(v)} bit/s`;
}

/** The page's one clock (chart.js): 12:04:31, with the date in front when it is not today's. */
function clockTime(ms) { return Clock.time(ms); }

/** 42 s, 3 min, 5 h, 2 d: whole units, rounded down. */
function humanDuration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/** A server from before states were tracked gives only `online`. */
function pathState(p) { return p.state || (p.online ? "online" : "offline"); }

/** Now by the server's clock, which dates polls and state changes. */
function serverNow() { return Date.now() + state.clockOffsetMs; }

// ---- Paths of a fleet ----

function isFleet(servers = state.servers) { return servers.length > 1; }

/** The id the dashboard keeps a path by, and shows it as. */
function pathId(server, name, servers = state.servers) { return isFleet(servers) ? `${server}/${name}` : name; }

function idOf(p) { return pathId(p.server, p.name); }

/** An id taken apart again, with the servers it was made under. */
function pathOf(id, servers = state.servers) {
  if (isFleet(servers)) {
    const at = id.indexOf("/");
    return { server: id.slice(0, at), name: id.slice(at + 1) };
  }
  return { server: servers[0]?.name ?? null, name: id };
}

/** `&server=…` for a path-specific request: a name on several servers without it is refused. */
function serverParam(server) { return server ? `&server=${encodeURIComponent(server)}` : ""; }

/** A link's paths as ids: `server/name` where the head names a known server, and a bare name (a
 *  link made while one server was known) on the first server that lists it. */
function resolvePaths(entries, items) {
  const known = new Set(state.servers.map((s) => s.name));
  const ids = entries.map((entry) => {
    const at = entry.indexOf("/");
    const bare = items.some((p) => p.name === entry);
    if (at > 0 && known.has(entry.slice(0, at)) && (isFleet() || !bare)) return pathId(entry.slice(0, at), entry.slice(at + 1));
    const item = items.find((p) => p.name === entry);
    return pathId(item?.server ?? state.servers[0]?.name, entry);
  });
  return [...new Set(ids)];
}

/** Takes the servers of a message; when their count crosses one (a fleet's second server
 *  answers after the first), the ids kept so far are rewritten to the new form. */
function setServers(message) {
  if (!message.servers) return;
  const before = state.servers;
  state.servers = message.servers;
  // A server that just failed: what /api/v1/servers said of an earlier outage no longer holds.
  for (const s of state.servers) {
    if (!s.reachable && before.find((b) => b.name === s.name)?.reachable !== false) state.serverInfo.delete(s.name);
  }
  if (state.servers.some((s) => !s.reachable && !state.serverInfo.get(s.name)?.failingSince)) askServers();
  if (before.length && isFleet(before) !== isFleet()) {
    const rekey = (id) => { const p = pathOf(id, before); return pathId(p.server, p.name); };
    state.selected = state.selected.map(rekey);
    state.series = new Map([...state.series].map(([id, points]) => [rekey(id), points]));
    writeURL();
    renderEvents();
  }
  showServers();
}

/** When a server began failing and its last poll's words: only GET /api/v1/servers says. */
function askServers() {
  if (state.askingServers || Date.now() - state.serverInfoAt < 2000) return;
  state.askingServers = true;
  state.serverInfoAt = Date.now();
  api("api/v1/servers").then((body) => {
    state.serverInfo = new Map(body.servers.map((s) => [s.name, s]));
    tick();
  }).catch(() => {}).finally(() => { state.askingServers = false; });
}

// ---- The API, with the token when one is needed ----

function token() { return sessionStorage.getItem("mtxmon-token"); }

let tokenPrompt = null;

/** Resolves true once a token is entered and false when the dialog is dismissed (Esc, Cancel):
 *  a dismissed prompt must not leave every caller waiting, so the page says what it lacks and
 *  offers the prompt again. Callers arriving while it is open share the one prompt. */
function askToken() {
  if (tokenPrompt) return tokenPrompt;
  const dialog = $("token-dialog");
  tokenPrompt = new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.onclose = () => {
      tokenPrompt = null;
      const given = dialog.returnValue === "use" && $("token").value !== "";
      if (given) sessionStorage.setItem("mtxmon-token", $("token").value);
      setNeedToken(!given);
      resolve(given);
    };
    dialog.showModal();
  });
  return tokenPrompt;
}

function setNeedToken(needed) {
  state.needToken = needed;
  $("token-button").hidden = !needed;
  if (needed) showError("This mtxmon needs its API token: use “Enter token” above.");
  tick();
}

async function api(path) {
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  const response = await fetch(path, { headers });
  if (response.status === 401) {
    if (await askToken()) return api(path);
    const error = new Error("This mtxmon needs its API token: use “Enter token” above.");
    error.code = "token_needed";
    throw error;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(body?.error?.message || `${response.status} ${response.statusText}`);
    error.code = body?.error?.code;
    throw error;
  }
  return body;
}

function showError(message) {
  const note = $("range-note");
  note.textContent = message;
  note.classList.toggle("error", Boolean(message));
}

// ---- The URL carries range, selection and second chart ----

function readURL() {
  const q = new URLSearchParams(location.search);
  const from = Date.parse(q.get("from") || ""), to = Date.parse(q.get("to") || "");
  if (Number.isFinite(from) && Number.isFinite(to) && from < to) {
    state.range = null;
    state.from = from;
    state.to = to;
    state.rangeChosen = true;
  } else if (RANGES[q.get("range")]) {
    state.range = q.get("range");
    state.rangeChosen = true;
  }
  state.urlPaths = (q.get("paths") || "").split(",").filter(Boolean).slice(0, MAX_SELECTED);
  state.serverFilter = q.get("server") || "";
  if (SECOND[q.get("chart2")]) state.second = q.get("chart2");
  if (q.get("events") === "charted") timeline.scope = "charted";
}

function writeURL() {
  const q = new URLSearchParams();
  // The opening range is left out, so that the link opens on what the history holds then.
  if (state.rangeChosen && state.range) q.set("range", state.range);
  else if (state.rangeChosen) {
    q.set("from", new Date(state.from).toISOString());
    q.set("to", new Date(state.to).toISOString());
  }
  const paths = state.urlPaths ?? state.selected;
  if (paths.length) q.set("paths", paths.join(","));
  if (state.serverFilter && isFleet()) q.set("server", state.serverFilter);
  if (state.second !== "readers") q.set("chart2", state.second);
  if (timeline.scope !== "problems") q.set("events", timeline.scope);
  history.replaceState(null, "", `${location.pathname}?${q}`.replace(/%2F/g, "/").replace(/%2C/g, ","));
}

// ---- History ----

function window_() {
  const now = Date.now();
  if (state.range) {
    const span = RANGES[state.range];
    return { xmin: now - span, xmax: now, step: STEPS[state.range], from: `now-${state.range}`, to: "now" };
  }
  if (state.to == null) {
    // Only ever under an hour (it becomes the 1 h range then), so raw samples as for 1 h.
    return { xmin: state.from, xmax: now, step: null, from: (state.from / 1000).toFixed(3), to: "now" };
  }
  const span = state.to - state.from;
  const wanted = span / 1200;
  const step = wanted <= state.intervalMs ? null : NICE_STEPS.find((s) => s >= wanted) || NICE_STEPS[NICE_STEPS.length - 1];
  return { xmin: state.from, xmax: state.to, step, from: (state.from / 1000).toFixed(3), to: (state.to / 1000).toFixed(3) };
}

/** Without a range in the URL the page opens on what the history holds: an hour once it holds
 *  one, and before that all of it (at least the past 2 minutes), so that a young history fills
 *  the chart rather than a sliver at its right edge. `historyFrom` null: nothing recorded yet. */
function defaultRange(historyFrom, now) {
  if (historyFrom != null && now - historyFrom >= RANGES["1h"]) return { range: "1h", from: null };
  return { range: null, from: Math.min(historyFrom ?? now, now - FIRST_SPAN_MS) };
}

/** Decides the opening range once, from a `GET /api/v1/paths` answer; a server that does not
 *  say where its history begins (`historyFrom` absent) keeps the hour. */
function settleRange(body) {
  if (state.rangeSettled) return;
  state.rangeSettled = true;
  if (state.rangeChosen || !body || !("historyFrom" in body)) return;
  const chosen = defaultRange(body.historyFrom, serverNow());
  Object.assign(state, { range: chosen.range, from: chosen.from, to: null });
  showRange();
}

/** History is asked for in the opening range, never in the one held until it is known. */
async function rangeReady() {
  if (state.rangeSettled) return;
  let body = null;
  try { body = await api("api/v1/paths"); } catch { /* the hour, then */ }
  settleRange(body);
}

async function loadHistory() {
  const w = window_();
  Object.assign(state, { xmin: w.xmin, xmax: w.xmax, step: w.step });
  loadEvents().catch((e) => showEventsNote(e.message, true));
  const seq = ++state.historySeq;
  const query = `from=${w.from}&to=${w.to}&fields=${FIELDS}&format=columns` + (w.step ? `&step=${w.step / 1000}s` : "");
  document.body.dataset.historyQuery = query;
  const ids = [...state.selected];
  const requests = ids.map((id) => {
    const { server, name } = pathOf(id);
    return `api/v1/history/${encodeURIComponent(name)}?${query}${serverParam(server)}`;
  });
  document.body.dataset.historyRequests = requests.join(" ");
  const results = await Promise.allSettled(requests.map((request) => api(request)));
  if (seq !== state.historySeq) return; // a newer range or selection took over
  const series = new Map();
  const problems = [];
  results.forEach((result, i) => {
    const id = ids[i];
    if (result.status === "fulfilled") series.set(id, pointsOf(result.value.columns));
    else {
      series.set(id, []);
      if (result.reason.code === "token_needed") problems.push(result.reason.message);
      else if (result.reason.code !== "unknown_path") problems.push(`${id}: ${result.reason.message}`);
    }
  });
  state.series = series;
  showError([...new Set(problems)].join("; "));
  document.body.dataset.historyLoads = String(Number(document.body.dataset.historyLoads || 0) + 1);
  draw();
}

/** Points from a columns answer (one array per figure: a third of the bytes of points). */
function pointsOf(columns) {
  const names = Object.keys(columns).filter((name) => name !== "t");
  return columns.t.map((t, i) => {
    const point = { t };
    for (const name of names) point[name] = columns[name][i];
    return point;
  });
}

/** A live point joins the series: as is at raw resolution, into the current bucket when stepped. */
function append(points, point) {
  const last = points[points.length - 1];
  if (!state.step) {
    if (!last || last.t < point.t) points.push(point);
    return;
  }
  const bucket = Math.floor(point.t / state.step) * state.step;
  if (last && last.t === bucket && last.live) {
    const n = last.live + 1;
    for (const key of FIELDS.split(",")) {
      if (point[key] == null) continue;
      last[key] = last[key] == null ? point[key] : last[key] + (point[key] - last[key]) / n;
    }
    last.live = n;
  } else if (!last || last.t < bucket) {
    points.push({ ...point, t: bucket, live: 1 });
  }
}

// ---- Charts ----

/** The interval the server of a series (by its id) is polled at: a fleet's servers may differ. */
function intervalOf(id) {
  const { server } = pathOf(id);
  return state.servers.find((s) => s.name === server)?.intervalMs || state.intervalMs;
}
/** Points further apart than this are not joined: the server's own run rule (3.5 of its
 *  intervals), or 2.5 buckets when the chart is stepped. */
const gap = (series) => {
  const interval = series ? intervalOf(series.name) : state.intervalMs;
  return Math.max(2.5 * (state.step || interval), 3.5 * interval);
};
/** A span dragged on either chart becomes the range shown, as a custom range would. */
const zoom = (from, to) => { timeline.focus = null; useCustomRange(Math.round(from), Math.round(to)); };
const charts = {
  main: new TimeChart($("chart-main"), { format: formatBitrate, gapMs: gap, onZoom: zoom,
                                         onHover: (t) => charts.second.showAt(t) }),
  second: new TimeChart($("chart-second"), { format: (v, exact) => SECOND[state.second].format(v, exact), gapMs: gap,
                                             onZoom: zoom, onHover: (t) => charts.main.showAt(t) }),
};

/** FNV-1a over the name's UTF-16 units: the palette slot a path asks for. */
function nameHash(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A path keeps its colour however the selection was built: each takes the slot its id
 *  hashes to, and when that is taken the next free one, handed out in id order so that the
 *  order of ticking plays no part. At most MAX_SELECTED paths, so a slot is always free. */
const palette = { key: null, byName: new Map() };
function color(id) {
  const key = state.selected.join("\n");
  if (palette.key !== key) {
    palette.key = key;
    palette.byName = new Map();
    const taken = new Set();
    for (const n of [...state.selected].sort()) {
      let slot = nameHash(n) % COLORS.length;
      while (taken.has(slot) && taken.size < COLORS.length) slot = (slot + 1) % COLORS.length;
      taken.add(slot);
      palette.byName.set(n, COLORS[slot]);
    }
  }
  return palette.byName.get(id) || COLORS[nameHash(id) % COLORS.length];
}

function draw() {
  const pick = (key) => state.selected.map((id) => ({
    name: id, color: color(id), points: (state.series.get(id) || []).map((p) => [p.t, p[key] ?? null]),
  }));
  const markers = eventMarkers();
  charts.main.setMarkers(markers);
  charts.second.setMarkers(markers);
  charts.main.setData(pick("bitrateIn"), state.xmin, state.xmax);
  charts.second.setData(pick(state.second), state.xmin, state.xmax);
  document.body.dataset.markers = charts.main.canvas.dataset.markers || "0";
  $("legend").innerHTML = state.selected.map((id) =>
    `<span style="--c:${color(id)}" data-name="${escapeHTML(id)}" data-color="${color(id)}">${escapeHTML(id)}</span>`).join("")
    || `<span class="muted">Tick paths in the table to chart them.</span>`;
}

// ---- Events ----

/** Connection churn: listed only on request, and never marked on the charts, where it would bury
 *  the events that matter. Left out of the requests too, so it cannot use up the cap. */
const CONNECTION_KINDS = new Set(["connected", "disconnected", "readers_joined", "readers_left"]);
/** A path's own events but the churn. */
const PATH_KINDS = ["online", "offline", "reset", "source_changed", "bitrate_low", "bitrate_back", "srt_margin", "srt_loss",
                    "flapping", "health", "forward_error", "forward_back"];
/** A server's events (no path) and the recorder's own (no server either). */
const SERVER_KINDS = ["server_unreachable", "server_back", "server_version", "redis_failing", "redis_back", "sqlite_failing", "sqlite_back"];
/** An episode's opening kind and the one that ends it: a click on either shows it whole. */
const EPISODES = { offline: "online", server_unreachable: "server_back", bitrate_low: "bitrate_back",
                   redis_failing: "redis_back", sqlite_failing: "sqlite_back" };
const SEVERITIES = {
  info: { icon: "●", color: "--muted", rank: 0 },
  warning: { icon: "▲", color: "--warn", rank: 1 },
  critical: { icon: "◆", color: "--bad", rank: 2 },
};
/** Events a request asks for at once, and the most the timeline keeps: a busy week would
 *  otherwise be tens of thousands of rows, which nobody reads on a page. */
const EVENT_PAGE = { size: 200, cap: 500 };
/** Half the window a click on a lone event shows. */
const EVENT_ZOOM_MS = 5 * 6e4;

const timeline = {
  list: [], keys: new Set(), more: false, seq: 0, loading: false, arrived: [], focus: null, connections: false, live: 0,
  // "problems": every path's and server's warnings and worse, what an operator looks for first;
  // "charted": everything of the charted paths and their servers.
  scope: "problems",
};

/** An event as it is known both from the API and live: a live one may come before it has an id. */
function eventKey(e) { return [e.kind, e.ts, e.server ?? "", e.path ?? "", e.connection ?? ""].join("|"); }

function severityOf(e) { return SEVERITIES[e.severity] || SEVERITIES.info; }

/** Whether an event is of a charted path, of a charted path's server, or of the recorder. */
function concernsCharted(e) {
  if (e.server == null) return true;
  if (e.path == null) return SERVER_KINDS.includes(e.kind) && state.selected.some((id) => pathOf(id).server === e.server);
  return state.selected.includes(pathId(e.server, e.path));
}

/** The timeline's rows: by its scope; connection churn of the charted paths only on request;
 *  incidents have their own panel. */
function eventShown(e) {
  if (e.kind === "incident") return false;
  if (CONNECTION_KINDS.has(e.kind)) return timeline.connections && e.path != null && concernsCharted(e);
  if (timeline.scope === "problems") return severityOf(e).rank >= SEVERITIES.warning.rank;
  return concernsCharted(e);
}

/** Whether events may still come into the range shown. */
function rangeReachesNow() { return Boolean(state.range) || state.to == null || state.to > Date.now(); }

/** Newest first, once each, at most the cap; `more` says older ones were left out. */
function keepEvents(list, more) {
  const byKey = new Map();
  for (const e of list) if (eventShown(e)) byKey.set(eventKey(e), e);
  const sorted = [...byKey.values()].sort((a, b) => b.ts - a.ts || (b.id ?? Infinity) - (a.id ?? Infinity));
  timeline.more = more || sorted.length > EVENT_PAGE.cap;
  timeline.list = sorted.slice(0, EVENT_PAGE.cap);
  timeline.keys = new Set(timeline.list.map(eventKey));
}

/** One request's events, page by page up to the cap. */
async function eventPages(request) {
  const events = [];
  let cursor = null;
  do {
    const limit = Math.min(EVENT_PAGE.size, EVENT_PAGE.cap - events.length);
    const body = await api(`${request}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    events.push(...body.events);
    cursor = body.nextCursor;
  } while (cursor && events.length < EVENT_PAGE.cap);
  return { events, more: cursor != null };
}

/** Charted: a request per charted path, so that a busy path elsewhere cannot fill the cap, and
 *  one for the servers' and the recorder's events. Problems: one request for every warning,
 *  and the charted paths' connection events when asked for. */
async function loadEvents() {
  const seq = ++timeline.seq;
  timeline.loading = true;
  timeline.arrived = [];
  const w = window_();
  const range = `from=${w.from}&to=${w.to}`;
  const perPath = (kinds) => state.selected.map((id) => {
    const { server, name } = pathOf(id);
    return `api/v1/events?${range}&path=${encodeURIComponent(name)}${serverParam(server)}&kind=${kinds.join(",")}`;
  });
  const churn = timeline.connections ? [...CONNECTION_KINDS] : [];
  const requests = timeline.scope === "problems"
    ? [`api/v1/events?${range}&severity=warning&kind=${[...PATH_KINDS, ...SERVER_KINDS].join(",")}`,
       ...(churn.length ? perPath(churn) : [])]
    : [...perPath([...PATH_KINDS, ...churn]), `api/v1/events?${range}&kind=${SERVER_KINDS.join(",")}`];
  document.body.dataset.eventsRequests = requests.join(" ");
  const results = await Promise.allSettled(requests.map(eventPages));
  if (seq !== timeline.seq) return; // a newer range, selection or toggle took over
  timeline.loading = false;
  const loaded = [];
  const problems = [];
  let more = false, oldest = -Infinity;
  for (const result of results) {
    if (result.status === "rejected") { problems.push(result.reason.message); continue; }
    loaded.push(...result.value.events);
    // Past the oldest event of a request cut short, the others' would stand alone: a path would
    // look quiet where its events were merely not fetched.
    if (result.value.more && result.value.events.length) {
      more = true;
      oldest = Math.max(oldest, result.value.events[result.value.events.length - 1].ts);
    }
  }
  keepEvents([...loaded.filter((e) => e.ts >= oldest), ...timeline.arrived], more);
  timeline.arrived = [];
  document.body.dataset.eventsLoads = String(Number(document.body.dataset.eventsLoads || 0) + 1);
  renderEvents([...new Set(problems)].join("; "));
  draw();
}

function onEvent(message) {
  const { type, event: kind, ...rest } = message;
  const e = { ...rest, kind };
  // What comes while the timeline loads may be newer than its answer: it is added after.
  if (timeline.loading) timeline.arrived.push(e);
  if (!rangeReachesNow() || !eventShown(e) || timeline.keys.has(eventKey(e))) return;
  keepEvents([e, ...timeline.list], timeline.more);
  timeline.live += 1;
  document.body.dataset.liveEvents = String(timeline.live);
  renderEvents();
  draw();
}

/** A moving range lets its oldest events go, as it does its oldest points. */
function dropEventsBefore(t) {
  const last = timeline.list[timeline.list.length - 1];
  if (!last || last.ts >= t) return;
  keepEvents(timeline.list.filter((e) => e.ts >= t), timeline.more);
  renderEvents();
}

/** The charts mark the events of what they show: the charted paths, their servers, the
 *  recorder; another path's warnings stay in the timeline. */
function eventMarkers() {
  return timeline.list.filter((e) => !CONNECTION_KINDS.has(e.kind) && concernsCharted(e))
    .map((e) => {
      const where = e.path != null ? pathId(e.server, e.path) : e.server != null && isFleet() ? e.server : "";
      const text = `${severityOf(e).icon} ${clockTime(e.ts)} ${where ? `${where}: ` : ""}${e.message}`;
      return { t: e.ts, color: severityOf(e).color, strong: eventKey(e) === timeline.focus, rank: severityOf(e).rank,
               label: text.length > 90 ? `${text.slice(0, 89)}…` : text };
    });
}

let eventsProblem = "";

function showEventsNote(text, problem = false) {
  const note = $("events-note");
  note.textContent = text;
  note.classList.toggle("error", problem);
}

function renderEvents(problem = eventsProblem) {
  eventsProblem = problem;
  const fleet = isFleet();
  document.querySelector("#events-table th.server").hidden = !fleet;
  $("events-table").classList.toggle("fleet", fleet);
  const rows = timeline.list.map((e) => {
    const sev = severityOf(e);
    const where = e.path != null ? escapeHTML(e.path)
      : `<span class="muted">${e.server == null ? "recorder" : fleet ? "server" : "MediaMTX"}</span>`;
    const key = eventKey(e);
    return `<tr tabindex="0" data-key="${escapeHTML(key)}" data-kind="${escapeHTML(e.kind)}" data-severity="${escapeHTML(e.severity)}"`
      + ` data-path="${escapeHTML(e.path ?? "")}" data-server="${escapeHTML(e.server ?? "")}" data-ts="${e.ts}"`
      + `${key === timeline.focus ? ` class="focused"` : ""} title="Zoom the charts to this event">`
      + `<td class="time"><time datetime="${new Date(e.ts).toISOString()}">${clockTime(e.ts)}</time></td>`
      + `<td class="sev ${escapeHTML(e.severity)}"><span aria-hidden="true">${sev.icon}</span> <span class="word">${escapeHTML(e.severity)}</span></td>`
      + (fleet ? `<td class="server">${e.server == null ? `<span class="muted">–</span>` : escapeHTML(e.server)}</td>` : "")
      + `<td class="path"${e.path != null ? ` title="${escapeHTML(e.path)}"` : ""}>${where}</td>`
      + `<td class="message">${escapeHTML(e.message)}</td></tr>`;
  });
  const empty = timeline.scope === "problems" ? "No warnings in this range: every path and server was fine."
    : state.selected.length ? "No events in this range." : "No events of the recorder in this range; tick paths to see theirs.";
  $("events-table").tBodies[0].innerHTML = rows.join("")
    || `<tr class="empty"><td colspan="${fleet ? 5 : 4}" class="muted">${empty}</td></tr>`;
  document.body.dataset.events = String(timeline.list.length);
  document.body.dataset.eventsMore = String(timeline.more);
  const n = timeline.list.length;
  const count = timeline.more ? `the newest ${n}; older ones in this range are left out, narrow the range to see them`
    : `${n} event${n === 1 ? "" : "s"}`;
  showEventsNote(problem ? `${count}; ${problem}` : count, Boolean(problem));
}

/** Zooms to a window around the event, or to its whole episode when the other end is listed. */
function zoomTo(key) {
  const e = timeline.list.find((o) => eventKey(o) === key);
  if (!e) return;
  const same = (o) => o !== e && o.server === e.server && o.path === e.path;
  const opening = Object.keys(EPISODES).find((k) => EPISODES[k] === e.kind);
  // Newest first: the last later closing is the first one after it, the first earlier opening the latest.
  const other = EPISODES[e.kind] ? timeline.list.filter((o) => same(o) && o.kind === EPISODES[e.kind] && o.ts >= e.ts).at(-1)
    : opening ? timeline.list.find((o) => same(o) && o.kind === opening && o.ts <= e.ts) : null;
  let from = e.ts - EVENT_ZOOM_MS, to = e.ts + EVENT_ZOOM_MS;
  if (other) {
    const start = Math.min(e.ts, other.ts), end = Math.max(e.ts, other.ts);
    const pad = Math.max(6e4, (end - start) / 10);
    from = start - pad;
    to = end + pad;
  }
  timeline.focus = key;
  useCustomRange(from, to);
}

// ---- The table ----

const sortValue = {
  // Within each state, by how long the path has been in it.
  name: (p) => p.name, server: (p) => p.server || "", state: (p) => p.since, sourceType: (p) => p.sourceType || "",
  bitrateIn: (p) => p.bitrateIn, bitrateOut: (p) => p.bitrateOut, readers: (p) => p.readers,
  rtt: (p) => p.srt?.rttMs, capacity: (p) => p.srt?.linkCapacityMbps, loss: (p) => lossRatio(p),
  // Worst first when sorted descending.
  health: (p) => HEALTH_RANK[p.health?.verdict] ?? null,
};

const HEALTH_RANK = { good: 0, degraded: 1, bad: 2 };

/** The health cell: the verdict, its reasons and hints on hover, readers in trouble named. */
function healthCell(p) {
  const h = p.health;
  if (!h || pathState(p) !== "online") return `<td class="health">–</td>`;
  const lines = h.reasons.map((r) => `${r.text}. ${r.hint}`);
  for (const r of h.readers || []) lines.push(`Reader: ${r.text}. ${r.hint}`);
  // Forward destinations in error do not change the stream's verdict, but are said beside it.
  const failing = (p.forwards || []).filter((f) => f.state === "error");
  for (const f of failing) lines.push(`Forward to ${f.type || "a"} destination #${(f.pos ?? 0) + 1} fails${f.error ? `: ${f.error}` : ""}`);
  const cls = h.verdict === "bad" ? "bad" : h.verdict === "degraded" ? "warn" : "";
  const readers = (h.readers || []).length;
  const notes = [readers ? `${readers} slow reader${readers === 1 ? "" : "s"}` : "",
    failing.length ? `${failing.length} forward${failing.length === 1 ? "" : "s"} failing` : ""].filter(Boolean);
  const note = notes.length ? ` <span class="muted">(${notes.join(", ")})</span>` : "";
  const title = lines.length ? ` title="${escapeHTML(lines.join("\n"))}"` : "";
  return `<td class="health ${cls}"${title}>${escapeHTML(h.verdict)}${note}</td>`;
}

/** The incidents firing now, from GET /api/v1/incidents, each with a button that silences its
 * cause on its server (and path) for an hour: recorded still, not sent. */
async function loadIncidents() {
  const body = await api("api/v1/incidents?state=open&from=now-30d");
  const rows = (body.incidents || []).map((i) => `<tr>
      <td class="${i.severity === "critical" ? "bad" : "warn"}">${escapeHTML(i.severity)}</td>
      <td>${escapeHTML(i.cause.replaceAll("_", " "))}${i.count > 1 ? ` ×${i.count}` : ""}</td>
      <td>${escapeHTML(i.server || "–")}</td><td>${escapeHTML(i.path || (i.paths.length ? `${i.paths.length} paths` : "–"))}</td>
      <td class="num">${humanDuration(i.durationMs)}</td>
      <td title="${escapeHTML(i.message)}">${escapeHTML(i.message.length > 70 ? i.message.slice(0, 69) + "…" : i.message)}</td>
      <td class="nowrap"><button type="button" class="silence" data-id="${escapeHTML(i.id)}">Silence 1 h</button></td></tr>`);
  const table = $("incidents-table");
  table.tBodies[0].innerHTML = rows.join("");
  table.hidden = !rows.length;
  state.openIncidents = body.incidents || [];
  $("incidents-note").textContent = rows.length ? `${rows.length} open` : "none open";
}

async function silenceIncident(id) {
  const incident = (state.openIncidents || []).find((i) => i.id === id);
  if (!incident) return;
  const matchers = { server: incident.server || undefined, cause: incident.cause };
  if (incident.path) matchers.path = incident.path;
  const headers = { "Content-Type": "application/json" };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch("api/v1/silences", {
    method: "POST", headers,
    body: JSON.stringify({ ...matchers, duration: "1h", comment: `silenced from the dashboard: ${incident.message.slice(0, 200)}` }),
  });
  const body = await response.json().catch(() => null);
  $("incidents-note").textContent = response.ok
    ? `silenced for 1 h (${body.id}); it is still recorded, not sent`
    : `not silenced: ${body?.error?.message || response.status}`;
}

/** The streams that were unhealthy longest in the past hour, from GET /api/v1/health. */
async function loadWorst() {
  const body = await api("api/v1/health?window=1h");
  const fleet = isFleet();
  document.querySelector("#worst-table th.server").hidden = !fleet;
  const rows = (body.streams || []).slice(0, 5).map((s) => {
    const top = Object.entries(s.causes || {}).sort((a, b) => b[1] - a[1])[0];
    return `<tr>${fleet ? `<td class="server">${escapeHTML(s.server)}</td>` : ""}<td>${escapeHTML(s.path)}</td>
      <td class="${s.verdict === "bad" ? "bad" : s.verdict === "degraded" ? "warn" : ""}">${escapeHTML(s.verdict)}</td>
      <td class="num">${humanDuration(s.unhealthyMs)} (${(s.share * 100).toFixed(1)} %)</td>
      <td>${top ? escapeHTML(top[0].replaceAll("_", " ")) : "–"}</td></tr>`;
  });
  $("worst-table").tBodies[0].innerHTML = rows.join("");
  $("worst-table").hidden = !rows.length;
  $("worst-note").textContent = rows.length ? "" : "every stream was healthy";
}

function lossRatio(p) {
  if (!p.srt || p.srt.packetsLost == null) return null;
  return p.srt.packetsLost / Math.max(1, (p.srt.packetsReceived || 0) + p.srt.packetsLost);
}

/** The latency margin rule: TSBPD latency at least 4 × RTT is ok, 3–4 × warn, below 3 × bad. */
function rttClass(p) {
  if (!p.srt?.rttMs || !p.srt.tsbpdDelayMs) return "";
  const margin = p.srt.tsbpdDelayMs / p.srt.rttMs;
  return margin >= 4 ? "" : margin >= 3 ? "warn" : "bad";
}

/** The state cell's words; an offline path's age is counted again on every tick. */
function stateText(p) {
  const s = pathState(p);
  if (s === "offline") return p.since != null ? `offline ${humanDuration(serverNow() - p.since)}` : "offline";
  if (s === "unknown") return p.lastSeen?.ts != null ? `unknown, last seen ${clockTime(p.lastSeen.ts)}` : "unknown";
  return s;
}

function stateTitle(p) {
  const s = pathState(p);
  if (s === "online") return p.since != null ? `online since ${clockTime(p.since)}` : "";
  const lines = [s === "unknown" ? "MediaMTX could not be asked" + (p.since != null ? ` since ${clockTime(p.since)}` : "")
    : p.since != null ? `offline since ${clockTime(p.since)}` : "offline"];
  if (p.lastSeen?.ts != null) lines.push(`last seen online ${clockTime(p.lastSeen.ts)}`);
  return lines.join("; ");
}

/** A bitrate is current only while the path is online; otherwise a dash, with the last seen
 *  figure on hover. */
function bitrateCell(p, key, extra = "") {
  const cls = `num${extra ? ` ${extra}` : ""}`;
  if (pathState(p) === "online") return `<td class="${cls}">${formatBitrate(p[key])}</td>`;
  return `<td class="${cls}"${lastSeenTitle(p, key, formatBitrate)}>–</td>`;
}

/** An offline path has no readers; of an unknown one nothing is known, so not "0". */
function readersCell(p) {
  if (pathState(p) !== "unknown") return `<td class="num readers">${p.readers ?? "–"}</td>`;
  return `<td class="num readers"${lastSeenTitle(p, "readers", String)}>–</td>`;
}

/** ` title="last seen 2 Mbit/s at 12:04:31"`: a figure no longer current, on hover. */
function lastSeenTitle(p, key, format) {
  const last = p.lastSeen?.[key];
  return last != null ? ` title="last seen ${format(last)} at ${clockTime(p.lastSeen.ts)}"` : "";
}

function renderTable() {
  const paths = state.snapshot?.paths || [];
  const filter = state.filter.toLowerCase();
  const fleet = isFleet();
  const onServer = fleet && state.serverFilter;
  // In a fleet the words filter `server/name` too, so "edge1/" narrows to one server.
  const shown = paths.filter((p) => idOf(p).toLowerCase().includes(filter) && (!onServer || p.server === onServer)
    && inStateFilter(p));
  const { key, dir } = state.sort;
  const group = (p) => STATE_ORDER[pathState(p)] ?? STATE_ORDER.unknown;
  const byName = (a, b) => a.name.localeCompare(b.name) || (a.server || "").localeCompare(b.server || "");
  shown.sort((a, b) => {
    if (group(a) !== group(b)) return group(a) - group(b);
    const x = sortValue[key](a), y = sortValue[key](b);
    if (x == null || y == null) { // blanks last
      return x == null && y == null ? byName(a, b) : x == null ? 1 : -1;
    }
    return (x < y ? -1 : x > y ? 1 : 0) * dir || byName(a, b);
  });
  $("paths").tBodies[0].innerHTML = shown.map((p) => {
    const id = idOf(p);
    const selected = state.selected.includes(id);
    const srt = p.srt;
    const loss = lossRatio(p);
    const margin = srt?.rttMs && srt.tsbpdDelayMs ? ` title="TSBPD latency ${srt.tsbpdDelayMs} ms = ${(srt.tsbpdDelayMs / srt.rttMs).toFixed(1)} × RTT"` : "";
    const s = pathState(p);
    const unknown = s === "unknown";
    const title = stateTitle(p);
    const since = s === "offline" && p.since != null ? ` data-since="${p.since}"` : "";
    return `<tr class="${s === "online" ? "" : escapeHTML(s)} ${selected ? "selected" : ""}" data-name="${escapeHTML(p.name)}" data-server="${escapeHTML(p.server || "")}" data-id="${escapeHTML(id)}" data-state="${escapeHTML(s)}"${selected ? ` style="--c:${color(id)}"` : ""}>
      <td><input type="checkbox" aria-label="Chart ${escapeHTML(id)}" ${selected ? "checked" : ""}></td>
      ${fleet ? `<td class="server">${escapeHTML(p.server || "")}</td>` : ""}
      <td class="name" title="Show its connections"${fleet ? ` data-server="${escapeHTML(p.server || "")}"` : ""}>${escapeHTML(p.name)}</td>
      <td class="state ${s === "online" ? "online" : ""}"${since}${title ? ` title="${escapeHTML(title)}"` : ""}>${escapeHTML(stateText(p))}</td>
      ${healthCell(p)}
      ${bitrateCell(p, "bitrateIn")}
      ${readersCell(p)}
      <td class="opt">${escapeHTML(p.sourceType || "–")}</td>
      ${bitrateCell(p, "bitrateOut", "opt")}
      <td class="num opt ${unknown ? "" : rttClass(p)}"${unknown ? "" : margin}>${!unknown && srt?.rttMs != null ? SECOND.rttMs.format(srt.rttMs) : "–"}</td>
      <td class="num opt">${!unknown && srt?.linkCapacityMbps != null ? SECOND.linkCapacityMbps.format(srt.linkCapacityMbps) : "–"}</td>
      <td class="num opt ${unknown ? "" : loss > 0.01 ? "bad" : loss > 0.001 ? "warn" : ""}">${unknown || loss == null ? "–" : `${srt.packetsLost} (${(loss * 100).toFixed(2)} %)`}</td>
    </tr>`;
  }).join("");
  $("count").textContent = `${shown.length} of ${paths.length} paths`;
  const chip = $("state-filter");
  chip.hidden = !state.stateFilter;
  chip.textContent = state.stateFilter ? `only ${STATE_FILTERS[state.stateFilter]}${state.stateServer ? ` on ${state.stateServer}` : ""} ✕` : "";
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.setAttribute("aria-sort", th.dataset.sort === key ? (dir > 0 ? "ascending" : "descending") : "none");
  }
}

function toggle(id) {
  if (state.selected.includes(id)) state.selected = state.selected.filter((n) => n !== id);
  else if (state.selected.length >= MAX_SELECTED) {
    showError(`At most ${MAX_SELECTED} paths are charted at once: untick one first.`);
    return;
  } else state.selected = [...state.selected, id];
  writeURL();
  renderTable();
  loadHistory().catch((e) => showError(e.message));
}

// ---- Live ----

function snapshotPoint(p, ts) {
  return { t: ts, bitrateIn: p.bitrateIn, bitrateOut: p.bitrateOut, readers: p.readers,
           rttMs: p.srt?.rttMs ?? null, linkCapacityMbps: p.srt?.linkCapacityMbps ?? null };
}

function showServer() {
  const s = state.snapshot;
  // A fleet's versions are in its health strips, one a server.
  $("server").textContent = isFleet() ? `${state.servers.length} MediaMTX servers`
    : s?.serverVersion ? `MediaMTX ${s.serverVersion}`
    : s?.serverVersionNote ? `MediaMTX version ${s.serverVersionNote}` : "";
}

/** What only a fleet shows: the server filter and column; the now bar is shown for any. */
function showServers() {
  const fleet = isFleet();
  const names = state.servers.map((s) => s.name);
  document.body.dataset.servers = names.join(",");
  document.querySelector("#paths th[data-sort='server']").hidden = !fleet;
  const select = $("server-filter");
  select.hidden = !fleet;
  if (state.serverFilter && fleet && !names.includes(state.serverFilter)) state.serverFilter = "";
  if (select.dataset.names !== names.join(",")) {
    select.dataset.names = names.join(",");
    select.innerHTML = `<option value="">All servers</option>`
      + names.map((n) => `<option value="${escapeHTML(n)}">${escapeHTML(n)}</option>`).join("");
  }
  select.value = fleet ? state.serverFilter : "";
  showStrips();
}

// ---- Now: what is wrong right now, per server and for the fleet ----

/** The table filters a count of the now bar sets, in words. */
const STATE_FILTERS = { online: "online", offline: "offline", unknown: "unknown", problems: "degraded or bad" };

/** An online stream whose health verdict is not good. */
function isProblem(p) { return pathState(p) === "online" && (p.health?.verdict === "degraded" || p.health?.verdict === "bad"); }

function inStateFilter(p) {
  if (!state.stateFilter) return true;
  if (state.stateServer && p.server !== state.stateServer) return false;
  return state.stateFilter === "problems" ? isProblem(p) : pathState(p) === state.stateFilter;
}

/** Counts by state and the totals of what is online: nothing is known of an unknown path. */
function tally(paths) {
  const t = { online: 0, offline: 0, unknown: 0, problems: 0, bitrateIn: 0, bitrateOut: 0, readers: 0 };
  for (const p of paths) {
    const s = pathState(p);
    t[s === "online" || s === "offline" ? s : "unknown"] += 1;
    if (isProblem(p)) t.problems += 1;
    if (s === "online") {
      t.bitrateIn += p.bitrateIn || 0;
      t.bitrateOut += p.bitrateOut || 0;
      t.readers += p.readers || 0;
    }
  }
  return t;
}

/** Four counts, each a button that narrows the table to its paths (on `server`, or all). */
function countButtons(t, server) {
  const button = (key, word, cls) => `<button type="button" class="count ${t[key] && cls ? cls : ""}" data-filter="${key}"`
    + ` data-server="${escapeHTML(server ?? "")}" data-count="${t[key]}"`
    + ` aria-pressed="${state.stateFilter === key && (state.stateServer ?? "") === (server ?? "")}"`
    + ` title="Show only the ${STATE_FILTERS[key]} paths${server ? ` of ${escapeHTML(server)}` : ""}">`
    + `<b>${t[key]}</b> ${word}</button>`;
  return `<div class="counts">${button("online", "online", "")}${button("offline", "offline", "bad")}`
    + `${button("unknown", "unknown", "warn")}${button("problems", "degraded", "warn")}</div>`;
}

function totals(t, known) {
  if (!known) return `<div class="totals muted">in – · out – · – readers</div>`;
  return `<div class="totals" data-bitrate-in="${t.bitrateIn}" data-bitrate-out="${t.bitrateOut}" data-readers="${t.readers}">`
    + `<span title="Ingest: the inbound bitrate of every online path">in ${formatBitrate(t.bitrateIn)}</span>`
    + ` · <span title="Egress: the outbound bitrate of every online path">out ${formatBitrate(t.bitrateOut)}</span>`
    + ` · <span>${t.readers} reader${t.readers === 1 ? "" : "s"}</span></div>`;
}

/** The newest answer of each server, kept from the feed and from GET /api/v1/servers, and the
 *  version it last gave: a failing server keeps both, said as what they are. */
const lastKnown = { answer: new Map(), version: new Map() };

function noteServer(s) {
  if (s.reachable && s.ts) lastKnown.answer.set(s.name, Math.max(lastKnown.answer.get(s.name) || 0, s.ts));
  if (s.serverVersion) lastKnown.version.set(s.name, s.serverVersion);
}

/** The version in words: the one MediaMTX gave, its note (a v1.12 API does not tell it), or
 *  the last one known while it does not answer. */
function versionText(s, info) {
  if (s.serverVersion) return `MediaMTX ${s.serverVersion}`;
  const last = lastKnown.version.get(s.name) || info?.lastVersion || info?.version;
  if (!s.reachable && last) return `MediaMTX ${last} when last answered`;
  const note = s.serverVersionNote || info?.versionNote;
  return note ? `MediaMTX version ${note}` : "MediaMTX version not known yet";
}

/** One strip a server: its state, version, when it last answered, its counts and totals; and
 *  one for the whole fleet ahead of them. Redrawn on every tick for the ages. */
function showStrips() {
  const now = serverNow();
  const fleet = isFleet();
  const paths = state.snapshot?.paths || [];
  const servers = state.servers.length ? state.servers
    : state.snapshot ? [{ name: "", ts: state.snapshot.ts, reachable: state.snapshot.reachable !== false,
                          serverVersion: state.snapshot.serverVersion, serverVersionNote: state.snapshot.serverVersionNote,
                          error: state.snapshot.error, paths: paths.length, intervalMs: state.intervalMs }] : [];
  for (const s of servers) noteServer(s);
  const strips = servers.map((s) => {
    const info = state.serverInfo.get(s.name);
    const answered = Math.max(lastKnown.answer.get(s.name) || 0, info?.lastSuccessTs || 0) || null;
    const age = answered != null ? now - answered : null;
    // Each server by its own interval: one polled every 10 s is not stale between its polls.
    const status = !s.reachable ? "down" : now - s.ts > STALE_INTERVALS * (s.intervalMs || state.intervalMs) ? "stale" : "up";
    const mine = fleet ? paths.filter((p) => p.server === s.name) : paths;
    const t = tally(mine);
    const title = fleet ? s.name : "MediaMTX";
    const parts = [
      `<b>${escapeHTML(title)}</b>`,
      `<span class="muted version">${escapeHTML(versionText(s, info))}</span>`,
      `<span class="age">${age != null ? `last answer ${humanDuration(age)} ago` : "no answer yet"}</span>`,
    ];
    let failing = "";
    if (status === "down") {
      const since = info?.failingSince;
      const error = s.error || info?.lastPoll?.error;
      failing = `<div class="failing">${since != null ? `failing since ${clockTime(since)} (${humanDuration(now - since)})` : "failing"}`
        + `${error ? `: ${escapeHTML(error)}` : ""}</div>`;
    } else if (status === "stale") {
      failing = `<div class="failing">no poll for ${humanDuration(now - s.ts)}</div>`;
    }
    const url = info?.url ? ` title="${escapeHTML(info.url)}"` : "";
    return `<div class="strip card" data-server="${escapeHTML(s.name)}" data-state="${status}" data-ts="${s.ts}"${url}>`
      + `<div class="strip-head"><span class="dot"></span>${parts.join("")}</div>${failing}`
      + `${countButtons(t, fleet ? s.name : null)}${totals(t, status !== "down")}</div>`;
  });
  // Servers with history that are no longer configured: said as such, their history kept.
  const retired = [...state.serverInfo.values()].filter((i) => i.state === "retired" && !servers.some((s) => s.name === i.name))
    .map((i) => `<div class="card retired" data-retired="${escapeHTML(i.name)}" data-state="retired">`
      + `<div class="strip-head"><span class="dot"></span><b>${escapeHTML(i.name)}</b>`
      + `<span class="muted">retired, history kept</span></div></div>`);
  let head = "";
  if (fleet) {
    const t = tally(paths);
    const down = servers.filter((s) => !s.reachable).length;
    head = `<div class="card fleet" data-state="${down ? "down" : "up"}"><div class="strip-head"><b>Fleet</b>`
      + `<span class="muted">${servers.length - down} of ${servers.length} servers answering</span></div>`
      + `${countButtons(t, null)}${totals(t, true)}</div>`;
  }
  const html = head + strips.join("") + retired.join("");
  // Unchanged strips are left alone, so that their text can be selected and copied.
  if (shownStrips !== html) $("servers").innerHTML = shownStrips = html;
  showTop(paths);
}

/** Top streams now: by inbound bitrate, by readers, and the problems (offline, unhealthy,
 *  unknown), each a link to its connections. */
function showTop(paths) {
  const link = (p, figure) => `<li><button type="button" class="link" data-server="${escapeHTML(p.server || "")}"`
    + ` data-name="${escapeHTML(p.name)}">${escapeHTML(idOf(p))}</button> <span class="muted">${figure}</span></li>`;
  const online = paths.filter((p) => pathState(p) === "online");
  const busiest = [...online].sort((a, b) => (b.bitrateIn || 0) - (a.bitrateIn || 0)).slice(0, 3)
    .map((p) => link(p, formatBitrate(p.bitrateIn)));
  const watched = [...online].filter((p) => p.readers > 0).sort((a, b) => b.readers - a.readers).slice(0, 3)
    .map((p) => link(p, `${p.readers} reader${p.readers === 1 ? "" : "s"}`));
  const rank = (p) => (pathState(p) === "offline" ? 0 : p.health?.verdict === "bad" ? 1 : p.health?.verdict === "degraded" ? 2 : 3);
  // A server that does not answer comes first: every path of it is unknown, for one reason.
  const down = state.servers.filter((s) => !s.reachable).map((s) => `<li><b>${escapeHTML(isFleet() ? s.name : "MediaMTX")}</b>`
    + ` <span class="muted">does not answer: ${paths.filter((p) => (!isFleet() || p.server === s.name)
      && pathState(p) === "unknown").length} paths unknown</span></li>`);
  const problems = [...down, ...paths.filter((p) => pathState(p) === "offline" || isProblem(p)).sort((a, b) => rank(a) - rank(b))
    .slice(0, 3).map((p) => link(p, pathState(p) === "offline" ? stateText(p) : p.health.verdict))];
  const list = (title, items, empty, kind) => `<div class="top-list" data-top="${kind}"><h3>${title}</h3>`
    + (items.length ? `<ol>${items.join("")}</ol>` : `<p class="muted">${empty}</p>`) + `</div>`;
  const html = list("Problems", problems, "none now", "problems") + list("Busiest", busiest, "nothing online", "bitrate")
    + list("Most watched", watched, "no readers", "readers");
  if (shownTop !== html) $("top").innerHTML = shownTop = html;
}

let shownTop = "";

let shownStrips = "";

/** Whether MediaMTX answered comes with snapshots; an update that does not say is read from its
 *  paths (every one `unknown` only when MediaMTX could not be asked), and the words for a
 *  failure are then fetched, since only `GET /api/v1/paths` carries them. */
function readReachability(message, previous) {
  if ("reachable" in message) return;
  const paths = message.paths || [];
  const down = paths.length > 0 && paths.every((p) => pathState(p) === "unknown");
  const wasDown = previous?.reachable === false;
  if (!paths.length || down === wasDown) return;
  state.snapshot.reachable = !down;
  state.snapshot.error = null;
  if (down) askReachability();
}

function askReachability() {
  if (state.askingReach) return;
  state.askingReach = true;
  api("api/v1/paths").then((body) => {
    if (state.snapshot && body.ts >= state.snapshot.ts && "reachable" in body) {
      state.snapshot.reachable = body.reachable;
      state.snapshot.error = body.error;
      tick();
    }
  }).catch(() => {}).finally(() => { state.askingReach = false; });
}

function onSnapshot(message) {
  state.snapshot = message;
  if (message.intervalMs) state.intervalMs = message.intervalMs;
  setServers(message);
  if (state.urlPaths) {
    state.selected = resolvePaths(state.urlPaths, message.paths || []);
    state.urlPaths = null;
  }
  readReachability(message, null);
  showServer();
  if (!state.selected.length && !new URLSearchParams(location.search).has("paths")) {
    // A first look: the busiest online paths.
    state.selected = [...message.paths].filter((p) => pathState(p) === "online")
      .sort((a, b) => (b.bitrateIn || 0) - (a.bitrateIn || 0)).slice(0, 5).map(idOf);
    writeURL();
  }
  renderTable();
  // The first snapshot or one after the feed was lost: history fills what was missed.
  rangeReady().then(loadHistory).catch((e) => showError(e.message));
  if (!state.snapshots) askServers();
  state.snapshots += 1;
  tick();
}

function onUpdate(message) {
  const previous = state.snapshot;
  state.snapshot = { ...previous, ...message, stale: false };
  setServers(message);
  readReachability(message, previous);
  state.updates += 1;
  document.body.dataset.updates = String(state.updates);
  showServer();
  renderTable();
  tick();
  if (connState.name != null && state.updates % 3 === 0) showConnections(connState.server, connState.name).catch(() => {});
  // A fixed range for incident review does not move; one that ends ahead (an event's window
  // opened while it is news) takes the new points until it ends.
  const fixed = !state.range && state.to != null;
  if (fixed && state.to < Date.now()) return;
  if (!state.range && !fixed && serverNow() - state.from >= RANGES["1h"]) {
    // The opening range grew to an hour: from here on it is the hour like any other.
    useRange("1h");
    return;
  }
  const byId = new Map(message.paths.map((p) => [idOf(p), p]));
  // An update follows one server's poll; each path is dated by its own server's newest poll,
  // so another server's unchanged figures are not taken for a new reading.
  const polledAt = new Map((message.servers || []).map((s) => [s.name, s.ts]));
  for (const id of state.selected) {
    const p = byId.get(id);
    // Nothing was read of an unknown path: a gap, as its history has, not a reading of zero.
    if (!p || pathState(p) === "unknown") continue;
    if (!state.series.has(id)) state.series.set(id, []);
    append(state.series.get(id), snapshotPoint(p, polledAt.get(p.server) ?? message.ts));
  }
  if (!fixed) {
    state.xmax = Math.max(Date.now(), message.ts);
    state.xmin = state.range ? state.xmax - RANGES[state.range] : state.from;
    for (const points of state.series.values()) {
      while (points.length && points[0].t < state.xmin - (state.step || 0)) points.shift();
    }
    dropEventsBefore(state.xmin);
    followRangeInputs();
  }
  draw();
}

function connect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  if (state.ws || state.needToken) return;
  const url = new URL("api/v1/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (token()) url.searchParams.set("token", token());
  const ws = new WebSocket(url);
  state.ws = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    state.retryMs = 1000;
    // The server's clock dates the polls: its offset from this one keeps their age honest.
    state.clockPingAt = Date.now();
    ws.send(JSON.stringify({ type: "ping", id: "clock" }));
    tick();
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "snapshot") onSnapshot(message);
    else if (message.type === "update") onUpdate(message);
    else if (message.type === "event") onEvent(message);
    else if (message.type === "pong" && message.id === "clock" && state.clockPingAt) {
      const now = Date.now();
      state.clockOffsetMs = message.ts - (state.clockPingAt + now) / 2;
      state.clockPingAt = 0;
      tick();
    }
  };
  ws.onclose = () => {
    if (state.ws === ws) state.ws = null;
    tick();
    reconnect(opened);
  };
}

/** A browser reports a refused upgrade as a bare close, without its status. When the socket
 *  never opened, a plain request tells a refused token (asked for again) from a server that is
 *  away (tried again later, backing off). */
async function reconnect(opened) {
  if (!opened) {
    const before = token();
    try {
      await api("api/v1/paths");
      if (token() !== before) { connect(); return; } // a new token was just entered
    } catch (e) {
      if (e.code === "token_needed") return;
    }
  }
  if (state.needToken || state.ws) return;
  state.retryTimer = setTimeout(connect, state.retryMs);
  state.retryMs = Math.min(state.retryMs * 2, 15000);
}

/** How old the newest snapshot is by the server's clock; null before any poll. */
function snapshotAge() {
  const ts = state.snapshot?.ts;
  return ts ? Date.now() + state.clockOffsetMs - ts : null;
}

/** Connection state from the age of the newest poll, refreshed every second: an open socket
 *  that brings nothing is not live. */
function tick() {
  const open = state.ws && state.ws.readyState === WebSocket.OPEN;
  const age = snapshotAge();
  const fresh = age != null && age <= STALE_INTERVALS * state.intervalMs;
  const down = state.snapshot?.reachable === false;
  // A fleet's strips say why each failing server fails; beside the badge, only which.
  const failing = state.servers.filter((s) => !s.reachable).map((s) => s.name);
  // The feed may be live while MediaMTX is not: the badge says the worse of the two.
  const allDown = down && (!isFleet() || failing.length >= state.servers.length);
  const feed = state.needToken ? "token" : !open ? (state.snapshots ? "reconnecting" : "connecting")
    : fresh ? "live" : "stale";
  const connState = feed !== "live" || !down ? feed : allDown ? "down" : "partial";
  const badge = $("conn");
  badge.dataset.state = connState;
  badge.textContent = connState === "token" ? "token needed" : connState === "down" ? "MediaMTX down"
    : connState === "partial" ? `live, ${failing.length} of ${state.servers.length} servers down` : connState;
  $("stale").hidden = !state.snapshots || fresh;
  if (state.snapshots) {
    $("updated").textContent = age == null ? "no poll yet"
      : `last poll ${clockTime(state.snapshot.ts)} (${Math.max(0, Math.round(age / 1000))} s ago)`;
  }
  const note = $("conn-error");
  note.hidden = !down;
  const words = !down ? "" : isFleet() && failing.length ? `MediaMTX unreachable: ${failing.join(", ")}`
    : `MediaMTX unreachable${state.snapshot.error ? `: ${state.snapshot.error}` : ""}`;
  if (note.textContent !== words) note.textContent = words; // unchanged words are not announced again
  document.body.dataset.reachable = state.snapshot ? String(!down) : "";
  for (const cell of document.querySelectorAll("#paths td.state[data-since]")) {
    cell.textContent = `offline ${humanDuration(serverNow() - Number(cell.dataset.since))}`;
  }
  showStrips();
}

// ---- A path's connections ----

const connState = { server: null, name: null, chosen: null, seq: 0 };
const connChart = new TimeChart($("chart-conn"), {
  format: (v, exact) => formatBitrate(v, exact), gapMs: () => 3.5 * state.intervalMs,
});

function verdict(v) {
  return v ? `<span class="level ${v.level}" title="${escapeHTML(v.rule)}">${v.level}</span> ${escapeHTML(v.reason)}` : "–";
}

/** Opens a path's connections and brings the panel into view: a row low in a long table is
 *  thousands of pixels below it. */
function openConnections(server, name) {
  const shown = showConnections(server, name).catch((e) => showError(e.message));
  $("details").scrollIntoView({ block: "start" });
  return shown;
}

async function showConnections(server, name) {
  Object.assign(connState, { server, name });
  $("details").hidden = false;
  $("details-title").textContent = pathId(server, name);
  const seq = ++connState.seq;
  let body;
  try {
    const request = `api/v1/paths/${encodeURIComponent(name)}/connections${server ? `?server=${encodeURIComponent(server)}` : ""}`;
    document.body.dataset.connectionsRequest = request;
    body = await api(request);
  } catch (e) {
    if (seq === connState.seq) $("connections").tBodies[0].innerHTML = `<tr><td colspan="9">${escapeHTML(e.message)}</td></tr>`;
    return;
  }
  if (seq !== connState.seq) return;
  $("connections").tBodies[0].innerHTML = body.connections.map((c) => {
    const h = c.health;
    const rtt = h?.rtt10s ? `${SECOND.rttMs.format(h.rtt10s.p50)} / ${SECOND.rttMs.format(h.rtt10s.p95)}`
      : c.rttMs != null ? SECOND.rttMs.format(c.rttMs) : "–";
    return `<tr data-id="${escapeHTML(c.id)}" class="${c.id === connState.chosen ? "chosen" : ""}" title="${escapeHTML(c.id)}">
      <td>${escapeHTML(c.role)}</td><td>${escapeHTML(c.protocol)}</td><td>${escapeHTML(c.remoteAddr || "–")}</td>
      <td class="num">${formatBitrate(c.bitrateIn)}</td><td class="num">${formatBitrate(c.bitrateOut)}</td>
      <td class="num">${rtt}</td><td class="num">${c.latencyMs != null ? `${c.latencyMs} ms` : "–"}</td>
      <td class="verdict">${h ? verdict(h.marginVerdict) : "–"}</td><td class="verdict">${h ? verdict(h.lossVerdict) : "–"}</td>
    </tr>`;
  }).join("") || `<tr><td colspan="9" class="muted">No connections listed for this path.</td></tr>`;
  document.body.dataset.connections = String(body.connections.length);
  if (connState.chosen && body.connections.some((c) => c.id === connState.chosen)) chartConnection(connState.chosen);
}

async function chartConnection(id) {
  connState.chosen = id;
  for (const row of $("connections").tBodies[0].rows) row.classList.toggle("chosen", row.dataset.id === id);
  // The two bitrates only, one array each: what the chart draws, in the smallest answer.
  // Connection ids are MediaMTX's own: two servers may hand out the same one.
  const query = `from=now-15m&fields=bitrateIn,bitrateOut&format=columns${serverParam(connState.server)}`;
  document.body.dataset.connectionQuery = query;
  const body = await api(`api/v1/connections/${encodeURIComponent(id)}/history?${query}`);
  if (connState.chosen !== id) return;
  const now = Date.now();
  const inbound = body.role === "publisher";
  $("conn-figure").hidden = false;
  $("conn-caption").textContent = `${body.protocol} ${body.role} ${body.remoteAddr || ""}: ${inbound ? "inbound" : "outbound"} bitrate, past 15 min`;
  connChart.setData([{ name: id.slice(0, 8), color: COLORS[0],
                       points: pointsOf(body.columns).map((p) => [p.t, inbound ? p.bitrateIn : p.bitrateOut]) }], now - 15 * 6e4, now);
}

// ---- Controls ----

function setRange(range) {
  state.rangeChosen = true;
  useRange(range);
}

/** A fixed range, as the custom fields and a clicked event ask for. */
function useCustomRange(from, to) {
  Object.assign(state, { rangeChosen: true, range: null, from, to });
  showRange();
  writeURL();
  loadHistory().catch((e) => showError(e.message));
}

function useRange(range) {
  state.range = range;
  showRange();
  writeURL();
  loadHistory().catch((e) => showError(e.message));
}

/** The range buttons and the custom fields as the range stands. */
function showRange() {
  for (const b of document.querySelectorAll("[data-range]")) b.setAttribute("aria-pressed", String(b.dataset.range === state.range));
  const w = window_();
  setRangeInputs(w.xmin, w.xmax);
}

/** A moving window's From/To fields move with it, unless someone is typing in them. */
function followRangeInputs() {
  if (!$("custom").contains(document.activeElement)) setRangeInputs(state.xmin, state.xmax);
}

function setRangeInputs(from, to) {
  $("from").value = localInput(from);
  $("to").value = localInput(to);
}

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 6e4);
  return d.toISOString().slice(0, 19);
}

function csv() {
  const keys = FIELDS.split(",");
  const fleet = isFleet();
  // As the API's CSV: a name a spreadsheet would run as a formula is made text (OWASP's advice).
  const quoted = (text) => {
    const plain = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
    return /[",\n\r]/.test(plain) ? `"${plain.replace(/"/g, '""')}"` : plain;
  };
  const lines = [[...(fleet ? ["server"] : []), "path", "t", "time", ...keys].join(",")];
  for (const id of state.selected) {
    const { server, name } = pathOf(id);
    for (const p of state.series.get(id) || []) {
      if (p.t < state.xmin || p.t > state.xmax) continue;
      lines.push([...(fleet ? [quoted(server)] : []), quoted(name), p.t, new Date(p.t).toISOString(),
                  ...keys.map((k) => p[k] ?? "")].join(","));
    }
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
  link.download = `mtxmon-${new Date(state.xmin).toISOString().slice(0, 16)}.csv`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function start() {
  readURL();
  for (const b of document.querySelectorAll("[data-range]")) b.onclick = () => { timeline.focus = null; setRange(b.dataset.range); };
  showRange();
  $("custom").onsubmit = (event) => {
    event.preventDefault();
    const from = new Date($("from").value).getTime(), to = new Date($("to").value).getTime();
    if (!(from < to)) { showError("The custom range needs a start before its end."); return; }
    timeline.focus = null;
    useCustomRange(from, to);
  };
  $("second").value = state.second;
  $("events-scope").value = timeline.scope;
  $("second").onchange = () => { state.second = $("second").value; writeURL(); draw(); };
  $("filter").oninput = () => { state.filter = $("filter").value; renderTable(); };
  $("server-filter").onchange = () => { state.serverFilter = $("server-filter").value; writeURL(); renderTable(); };
  $("csv").onclick = csv;
  $("show-connections").onchange = () => {
    timeline.connections = $("show-connections").checked;
    loadEvents().catch((e) => showEventsNote(e.message, true));
  };
  const events = $("events-table").tBodies[0];
  events.onclick = (event) => {
    const row = event.target.closest("tr[data-key]");
    if (row) zoomTo(row.dataset.key);
  };
  events.onkeydown = (event) => {
    const row = event.target.closest("tr[data-key]");
    if (row && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); zoomTo(row.dataset.key); }
  };
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.onclick = () => {
      const key = th.dataset.sort;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : key === "name" || key === "server" ? 1 : -1 };
      renderTable();
    };
  }
  $("paths").tBodies[0].onclick = (event) => {
    const row = event.target.closest("tr");
    if (!row) return;
    if (event.target.matches("input")) toggle(row.dataset.id);
    else if (event.target.closest("td.name")) openConnections(row.dataset.server || null, row.dataset.name);
  };
  $("top").onclick = (event) => {
    const button = event.target.closest("button[data-name]");
    if (button) openConnections(button.dataset.server || null, button.dataset.name);
  };
  $("servers").onclick = (event) => {
    const button = event.target.closest("button[data-filter]");
    if (!button) return;
    const same = state.stateFilter === button.dataset.filter && (state.stateServer ?? "") === button.dataset.server;
    state.stateFilter = same ? null : button.dataset.filter;
    state.stateServer = same ? null : button.dataset.server || null;
    shownStrips = "";
    showStrips();
    renderTable();
    if (!same) document.querySelector("section.table").scrollIntoView({ block: "start" });
  };
  $("state-filter").onclick = () => {
    state.stateFilter = state.stateServer = null;
    shownStrips = "";
    showStrips();
    renderTable();
  };
  $("events-scope").onchange = () => {
    timeline.scope = $("events-scope").value;
    writeURL();
    loadEvents().catch((e) => showEventsNote(e.message, true));
  };
  $("connections").tBodies[0].onclick = (event) => {
    const row = event.target.closest("tr[data-id]");
    if (row) chartConnection(row.dataset.id).catch((e) => showError(e.message));
  };
  $("details-close").onclick = () => {
    $("details").hidden = true;
    Object.assign(connState, { server: null, name: null, chosen: null });
    $("conn-figure").hidden = true;
  };
  $("token-cancel").onclick = () => $("token-dialog").close("cancel");
  $("token-button").onclick = async () => {
    if (!(await askToken())) return;
    showError("");
    if (state.ws) loadHistory().catch((e) => showError(e.message));
    else connect();
  };
  draw();
  // The charts read their colours when they draw: a change of scheme draws them again.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", draw);
  setInterval(tick, 1000);
  const incidents = () => loadIncidents().catch((e) => { $("incidents-note").textContent = e.message; });
  incidents();
  setInterval(incidents, 10000);
  $("incidents-table").addEventListener("click", (e) => {
    const button = e.target.closest("button.silence");
    if (button) silenceIncident(button.dataset.id).catch((error) => { $("incidents-note").textContent = error.message; });
  });
  // What only GET /api/v1/servers says (retired servers, last answers) stays current.
  setInterval(() => { state.serverInfoAt = 0; askServers(); }, 30000);
  const worst = () => loadWorst().catch((e) => { $("worst-note").textContent = e.message; });
  worst();
  setInterval(worst, 30000);
  // The token is checked before the WebSocket, which cannot report a 401 to the page.
  api("api/v1/paths").then((body) => { settleRange(body); connect(); }).catch((e) => { showError(e.message); connect(); });
}

start();
