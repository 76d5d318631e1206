// go-dsynth dashboard: trends (window.dsynthViews.trends).
//
// Hand-written SVG charts with axes and labels: packages per hour, success
// rate and worker utilization per run (GET /api/v1/trends), the queue
// depth over a run (the run's timeline, GET /api/v1/runs/{id}/timeline),
// and a port's build duration over its history (GET
// /api/v1/packages/{c}/{p}/history). Each chart is an <svg role="img">
// with a title and a description, followed by its values as a table.
'use strict';

(() => {
  let K; // window.dsynthViewKit, once loaded
  let el;
  let svg;

  const H = 200;
  const M = { top: 12, right: 16, bottom: 40, left: 52 };
  const MIN_W = 300;
  const MAX_W = 900;

  let view = null;
  let uid = 0;

  // begin takes the view kit and starts the view.
  function begin(k, host, api, params) {
    K = k;
    el = k.el;
    svg = k.svg;
    return start(host, api, params);
  }

  function start(host, api, params) {
    const v = { host, api, gen: 0, runs: [] };
    view = v;
    v.error = el('p', { class: 'error', role: 'alert', hidden: true });
    v.perRun = el('div', { class: 'tr-charts', id: 'tr-runs' });
    v.runSelect = el('select', { id: 'tr-run', 'aria-label': 'Run' }, el('option', { value: 'current' }, 'Current (or last) run'));
    v.runSelect.addEventListener('change', () => loadQueue(v));
    v.queue = el('div', { class: 'tr-charts', id: 'tr-queue' });
    const input = el('input', { id: 'tr-origin', type: 'text', placeholder: 'misc/hello', spellcheck: 'false', autocomplete: 'off' });
    const form = el('form', { class: 'view-tools', id: 'tr-form' },
      el('label', { for: 'tr-origin' }, 'Port '), input, el('button', { type: 'submit' }, 'Show durations'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      showPort(input.value.trim());
    });
    v.input = input;
    v.port = el('div', { class: 'tr-charts', id: 'tr-port' });
    host.replaceChildren(v.error,
      el('h3', {}, 'Per run'), v.perRun,
      el('h3', {}, 'Queue depth over a run'), el('div', { class: 'view-tools' }, el('label', { for: 'tr-run' }, 'Run '), v.runSelect), v.queue,
      el('h3', {}, "A port's build duration"), form, v.port);
    const origin = params && typeof params.origin === 'string' ? params.origin.trim() : '';
    return Promise.all([loadRuns(v), loadQueue(v), origin ? showPort(origin) : null]);
  }

  // stop tears the view down (nothing when it is not shown).
  function stop() {
    if (!view) return;
    view.gen++;
    view.host.replaceChildren();
    view = null;
  }

  const width = (v) => Math.max(MIN_W, Math.min(MAX_W, Math.floor((v.host.clientWidth || MAX_W) - 4)));

  function fail(box, what, e) {
    box.replaceChildren(el('p', { class: 'error', role: 'alert' }, `Cannot load ${what}: ` + K.message(e)));
  }

  async function loadRuns(v) {
    let d;
    try {
      d = await v.api('/trends?runs=30');
    } catch (e) {
      if (view === v) fail(v.perRun, 'the trends', e);
      return;
    }
    if (view !== v) return;
    const runs = ((d && d.runs) || []).map((r) => ({ ...r, t: K.parseTime(r.start) })).filter((r) => r.t !== null);
    v.runs = runs;
    for (const r of runs.slice().reverse()) {
      v.runSelect.appendChild(el('option', { value: r.id }, K.fmtDate(r.t) + (r.directive ? ' · ' + r.directive : '')));
    }
    if (!runs.length) {
      v.perRun.replaceChildren(el('p', { class: 'none' }, 'No finished run is recorded yet.'));
      return;
    }
    const w = width(v);
    const label = (r) => K.fmtDate(r.t);
    const pct = (x) => (typeof x === 'number' ? x * 100 : null);
    v.perRun.replaceChildren(
      chart({
        id: 'tr-pph', kind: 'bar', w, title: 'Packages per hour, per run',
        desc: `Ports built per hour of each of the last ${runs.length} runs, oldest first.`,
        points: runs.map((r) => ({ x: label(r), y: num(r.packages_per_hour) })), yFmt: (y) => y.toFixed(y < 10 ? 1 : 0),
        cols: ['Run', 'Packages per hour'],
      }),
      chart({
        id: 'tr-success', kind: 'line', w, title: 'Success rate, per run', yMax: 100,
        desc: `Share of the built ports that succeeded, in percent, in each of the last ${runs.length} runs, oldest first.`,
        points: runs.map((r) => ({ x: label(r), y: pct(r.success_rate) })), yFmt: (y) => y.toFixed(0) + '%',
        cols: ['Run', 'Success rate'],
      }),
      chart({
        id: 'tr-util', kind: 'line', w, title: 'Worker utilization, per run', yMax: 100,
        desc: `Busy slot time over slots times run length, in percent, in each of the last ${runs.length} runs, oldest first.`,
        points: runs.map((r) => ({ x: label(r), y: pct(r.utilization) })), yFmt: (y) => y.toFixed(0) + '%',
        cols: ['Run', 'Utilization'],
      }));
  }

  const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

  async function loadQueue(v) {
    const gen = ++v.gen;
    const id = v.runSelect.value || 'current';
    let d;
    try {
      d = await v.api('/runs/' + encodeURIComponent(id) + '/timeline');
    } catch (e) {
      if (view === v && gen === v.gen) fail(v.queue, 'the queue depth', e);
      return;
    }
    if (view !== v || gen !== v.gen) return;
    const pts = (d.queue_depth || []).map((q) => ({ t: K.parseTime(q.time), y: num(q.waiting) })).filter((p) => p.t !== null && p.y !== null);
    if (!pts.length) {
      v.queue.replaceChildren(el('p', { class: 'none' }, 'The run started no build.'));
      return;
    }
    v.queue.replaceChildren(chart({
      id: 'tr-depth', kind: 'step', w: width(v), title: 'Queue depth over the run',
      desc: 'Ports of the run not yet started, at each build start.',
      points: pts.map((p) => ({ x: p.t, y: p.y })), xTime: true, yFmt: (y) => y.toFixed(0),
      cols: ['Time', 'Ports waiting'],
    }));
  }

  // showPort charts origin's build durations.
  async function showPort(origin) {
    const v = view;
    if (!v) return;
    v.input.value = origin;
    const path = K.originPath(origin);
    if (!path) {
      v.port.replaceChildren(el('p', { class: 'error', role: 'alert' }, `"${origin}" is not an origin (category/port or category/port@flavor)`));
      return;
    }
    let d;
    try {
      d = await v.api(path + '/history?limit=200');
    } catch (e) {
      if (view === v && v.input.value === origin) fail(v.port, origin + "'s history", e);
      return;
    }
    if (view !== v || v.input.value !== origin) return;
    const builds = ((d && d.builds) || [])
      .map((r) => ({ t: K.parseTime(r.start_time), ms: num(r.duration_ns) === null ? null : r.duration_ns / 1e6, status: String(r.status || '') }))
      .filter((r) => r.t !== null && r.ms !== null && r.status !== 'running' && r.status !== 'ignored' && r.status !== 'skipped')
      .sort((a, b) => a.t - b.t);
    if (!builds.length) {
      v.port.replaceChildren(el('p', { class: 'none' }, `No finished build of ${origin} is recorded.`));
      return;
    }
    // Minutes when the longest build passes two minutes.
    const max = Math.max(...builds.map((b) => b.ms));
    const unit = max >= 120e3 ? 60e3 : 1e3;
    const uname = unit === 60e3 ? 'min' : 's';
    v.port.replaceChildren(chart({
      id: 'tr-duration', kind: 'line', w: width(v), title: `Build duration of ${origin}`,
      desc: `Duration in ${unit === 60e3 ? 'minutes' : 'seconds'} of each of its ${builds.length} recorded builds, oldest first; failed builds are marked.`,
      points: builds.map((b) => ({ x: b.t, y: b.ms / unit, cls: 'st-' + (/^[a-z]+$/.test(b.status) ? b.status : 'other'), note: b.status })),
      xTime: true, yFmt: (y) => (y < 10 ? y.toFixed(1) : y.toFixed(0)) + ' ' + uname,
      cols: ['Start', 'Duration', 'Outcome'],
    }));
  }

  // chart draws one chart. o: id, kind (bar: categorical x; line and step:
  // categorical x, or time when xTime), w, title, desc, points ({x, y,
  // cls, note}; y null = no value), yMax, yFmt, cols (table heads).
  function chart(o) {
    const n = ++uid;
    const tid = `${o.id}-title-${n}`;
    const did = `${o.id}-desc-${n}`;
    const pw = o.w - M.left - M.right;
    const ph = H - M.top - M.bottom;
    const vals = o.points.filter((p) => p.y !== null);
    const top = o.yMax ?? Math.max(1e-9, ...vals.map((p) => p.y));
    const step = K.niceStep(top, 4);
    const yTop = o.yMax ?? Math.max(step, Math.ceil(top / step) * step);
    const y = (val) => M.top + ph - (val / yTop) * ph;
    let x;
    let band = 0;
    if (o.xTime) {
      const t0 = Math.min(...o.points.map((p) => p.x));
      let t1 = Math.max(...o.points.map((p) => p.x));
      if (t1 <= t0) t1 = t0 + 60e3;
      x = (t) => M.left + ((t - t0) / (t1 - t0)) * pw;
      x.ticks = [];
      const ts = K.timeStep(t1 - t0, Math.max(2, Math.floor(pw / 110)));
      for (let t = Math.ceil(t0 / ts) * ts; t <= t1; t += ts) x.ticks.push({ at: x(t), label: ts >= 86400e3 ? K.fmtDate(t).slice(0, 10) : (t1 - t0 > 86400e3 ? K.fmtDate(t) : K.fmtClock(t)) });
    } else {
      band = pw / Math.max(1, o.points.length);
      const idx = new Map(o.points.map((p, i) => [p, i]));
      x = (p) => M.left + band * (idx.get(p) + 0.5);
      const every = Math.max(1, Math.ceil(o.points.length / Math.max(1, Math.floor(pw / 120))));
      x.ticks = o.points.map((p, i) => (i % every === 0 ? { at: x(p), label: p.x } : null)).filter(Boolean);
    }
    const px = (p) => (o.xTime ? x(p.x) : x(p));

    const g = document.createDocumentFragment();
    // Axes and grid.
    for (let v = 0; v <= yTop + 1e-9; v += step) {
      g.appendChild(svg('line', { class: 'tr-grid', x1: M.left, x2: M.left + pw, y1: y(v), y2: y(v) }));
      g.appendChild(svg('text', { class: 'tr-tick', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, o.yFmt(v)));
    }
    g.appendChild(svg('line', { class: 'tr-axis', x1: M.left, x2: M.left, y1: M.top, y2: M.top + ph }));
    g.appendChild(svg('line', { class: 'tr-axis', x1: M.left, x2: M.left + pw, y1: M.top + ph, y2: M.top + ph }));
    for (const t of x.ticks) {
      g.appendChild(svg('line', { class: 'tr-axis', x1: t.at, x2: t.at, y1: M.top + ph, y2: M.top + ph + 4 }));
      g.appendChild(svg('text', { class: 'tr-tick', x: t.at, y: M.top + ph + 16, 'text-anchor': 'middle' }, t.label));
    }
    // Data.
    if (o.kind === 'bar') {
      const bw = Math.max(2, Math.min(40, band * 0.7));
      for (const p of vals) {
        g.appendChild(svg('rect', { class: 'tr-bar', x: px(p) - bw / 2, y: y(p.y), width: bw, height: Math.max(0, M.top + ph - y(p.y)) },
          svg('title', {}, `${fmtX(o, p)}: ${o.yFmt(p.y)}`)));
      }
    } else {
      let d = '';
      vals.forEach((p, i) => {
        const X = px(p);
        const Y = y(p.y);
        if (i === 0) d += `M${X},${Y}`;
        else if (o.kind === 'step') d += `H${X}V${Y}`;
        else d += `L${X},${Y}`;
      });
      if (vals.length) g.appendChild(svg('path', { class: 'tr-line', d }));
      for (const p of vals) {
        g.appendChild(svg('circle', { class: 'tr-pt ' + (p.cls || ''), cx: px(p), cy: y(p.y), r: o.kind === 'step' ? 2.5 : 3.5 },
          svg('title', {}, `${fmtX(o, p)}: ${o.yFmt(p.y)}${p.note ? ' (' + p.note + ')' : ''}`)));
      }
    }
    const root = svg('svg', {
      class: 'tr-svg', id: o.id, width: o.w, height: H, viewBox: `0 0 ${o.w} ${H}`,
      role: 'img', 'aria-labelledby': tid, 'aria-describedby': did, data: { points: vals.length },
    }, svg('title', { id: tid }, o.title), svg('desc', { id: did }, o.desc));
    root.appendChild(g);
    const rows = o.points.map((p) => {
      const r = [fmtX(o, p), p.y === null ? '—' : o.yFmt(p.y)];
      if (o.cols.length > 2) r.push(p.note || '');
      return r;
    });
    return el('figure', { class: 'tr-figure' },
      el('figcaption', {}, o.title), root,
      K.dataTable(o.title + ' as a table', o.cols, rows));
  }

  function fmtX(o, p) {
    return o.xTime ? K.fmtDate(p.x) + ':' + String(new Date(p.x).getSeconds()).padStart(2, '0') : String(p.x);
  }

  window.dsynthViews = window.dsynthViews || {};
  const { mount, unmount } = window.dsynthKit.viewMounter(begin, stop);
  window.dsynthViews.trends = { mount, unmount, showPort };
})();
