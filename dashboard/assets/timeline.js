// go-dsynth dashboard: the slot timeline (window.dsynthViews.timeline).
//
// A Gantt chart of a run from GET /api/v1/runs/{id}/timeline: one lane per
// build slot (local, and remote "host/slot"), one bar per port build
// coloured by its outcome and divided at its phases, the run's critical
// path outlined. While the run goes, the page's live events (build.started,
// build.phase, build.completed, build.failed, build.lost, run.finished)
// extend the chart without asking the server again. A bar's port, phase
// and durations show on hover and keyboard focus; a click (or Enter)
// opens its log.
'use strict';

(() => {
  let K; // window.dsynthViewKit, once loaded
  let el;
  let svg;

  const LABEL_W = 120; // lane names
  const LANE_H = 26;
  const BAR_H = 18;
  const AXIS_H = 24;
  const PAD_R = 16;
  const MIN_W = 640; // narrower screens scroll the chart sideways
  const TICK_MS = 5000; // running bars grow this often

  // Outcomes a bar may have; anything else is drawn as "other".
  const OUTCOMES = ['success', 'failed', 'running', 'lost', 'skipped', 'ignored'];

  const outcomeOf = (s) => (OUTCOMES.includes(s) ? s : 'other');

  // view is the mounted state; null when not mounted.
  let view = null;

  // begin takes the view kit and starts the view.
  function begin(k, host, api, params) {
    K = k;
    el = k.el;
    svg = k.svg;
    return start(host, api, params);
  }

  function start(host, api, params) {
    const v = {
      host, api,
      runId: (params && params.run) || 'current',
      data: null, // the timeline answer, kept up to date by events
      live: false,
      gen: 0,
      redrawTimer: 0,
      ticker: 0,
      off: () => {},
      tip: null,
    };
    view = v;
    const select = el('select', { id: 'tl-run', 'aria-label': 'Run' },
      el('option', { value: 'current' }, 'Current (or last) run'));
    select.addEventListener('change', () => {
      v.runId = select.value;
      load(v);
    });
    v.select = select;
    if (v.runId !== 'current') select.appendChild(el('option', { value: v.runId }, v.runId));
    select.value = v.runId;
    v.summary = el('p', { class: 'tl-summary', id: 'tl-summary', 'aria-live': 'polite' });
    v.error = el('p', { class: 'error', role: 'alert', hidden: true });
    v.chart = el('div', { class: 'tl-chart', id: 'tl-chart' });
    v.legend = legend();
    v.table = el('div', { class: 'tl-table' });
    host.replaceChildren(
      el('div', { class: 'view-tools' }, el('label', { for: 'tl-run' }, 'Run '), select),
      v.summary, v.error, v.legend, v.chart, v.table);
    v.tip = K.tooltip(v.chart);
    v.off = K.onEvent((type, m) => onEvent(v, type, m));
    loadRuns(v);
    return load(v);
  }

  // stop tears the view down (nothing when it is not shown).
  function stop() {
    if (!view) return;
    view.gen++;
    view.off();
    clearTimeout(view.redrawTimer);
    clearInterval(view.ticker);
    view.host.replaceChildren();
    view = null;
  }

  function legend() {
    const items = OUTCOMES.map((o) => el('li', {},
      svg('svg', { width: 14, height: 14, 'aria-hidden': 'true', focusable: 'false' },
        svg('rect', { class: 'tl-swatch st-' + o, x: 1, y: 1, width: 12, height: 12 })), ' ' + o));
    items.push(el('li', {},
      svg('svg', { width: 14, height: 14, 'aria-hidden': 'true', focusable: 'false' },
        svg('rect', { class: 'tl-swatch crit-swatch', x: 1.5, y: 1.5, width: 11, height: 11 })), ' critical path'));
    return el('ul', { class: 'view-legend', 'aria-label': 'Legend' }, items);
  }

  async function loadRuns(v) {
    let d;
    try {
      d = await v.api('/runs?limit=50');
    } catch (_) {
      return; // the chart's own load reports errors
    }
    if (view !== v) return;
    for (const r of (d && d.runs) || []) {
      const start = K.parseTime(r.start);
      const label = (start ? K.fmtDate(start) : r.id) + (r.directive ? ' · ' + r.directive : '') +
        (r.counts ? ` · ${r.counts.built || 0} built, ${r.counts.failed || 0} failed` : '');
      v.select.appendChild(el('option', { value: r.id }, label));
    }
  }

  // load fetches the timeline; live events that come meanwhile are kept
  // and applied to the answer (those it already holds change nothing).
  async function load(v) {
    const gen = ++v.gen;
    v.error.hidden = true;
    v.loading = true;
    v.pending = [];
    let d;
    try {
      d = await v.api('/runs/' + encodeURIComponent(v.runId) + '/timeline');
    } catch (e) {
      if (gen !== v.gen || view !== v) return;
      v.loading = false;
      v.pending = [];
      v.error.textContent = 'Cannot load the timeline: ' + K.message(e);
      v.error.hidden = false;
      v.data = null;
      v.chart.replaceChildren(v.tip.node);
      v.summary.textContent = '';
      return;
    }
    if (gen !== v.gen || view !== v) return;
    v.data = normalize(d);
    v.live = v.runId === 'current' && !K.parseTime(d.run && d.run.end);
    clearInterval(v.ticker);
    if (v.live) v.ticker = setInterval(() => schedule(v), TICK_MS);
    v.loading = false;
    const pending = v.pending;
    v.pending = [];
    for (const [type, m] of pending) apply(v, type, m);
    draw(v);
  }

  // normalize turns the answer into the view's model: times in ms.
  function normalize(d) {
    const slots = (d.slots || []).map((s) => ({ worker: s.worker, name: s.name || 'slot ' + s.worker }));
    const bars = [];
    for (const b of d.bars || []) {
      const start = K.parseTime(b.start);
      if (start === null || typeof b.worker !== 'number' || b.worker < 0) continue;
      bars.push({
        id: b.record_id || '', origin: b.package || '', worker: b.worker,
        status: b.status || '', start, end: K.parseTime(b.end),
        phases: (b.phases || []).map((p) => ({ phase: p.phase || '', start: K.parseTime(p.start) })).filter((p) => p.start !== null),
        critical: !!b.critical,
      });
    }
    const crit = new Set(d.critical_path || []);
    for (const b of bars) if (crit.has(b.id)) b.critical = true;
    return {
      runId: (d.run && d.run.id) || '',
      start: K.parseTime(d.start), end: K.parseTime(d.end),
      slots, bars,
      critical: d.critical_path || [],
      utilization: d.utilization, makespan: typeof d.makespan_ns === 'number' ? d.makespan_ns / 1e6 : null,
    };
  }

  function schedule(v) {
    if (v.redrawTimer) return;
    v.redrawTimer = setTimeout(() => {
      v.redrawTimer = 0;
      if (view === v && v.data) draw(v);
    }, 0);
  }

  // ---- live events -----------------------------------------------------------

  function onEvent(v, type, m) {
    if (!m || typeof m !== 'object' || v.runId !== 'current') return;
    if (type === 'run.started') {
      // A new run (or the first): start over.
      if (!v.data || !m.run_id || m.run_id !== v.data.runId) load(v);
      return;
    }
    if (v.loading) {
      v.pending.push([type, m]);
      return;
    }
    if (!apply(v, type, m)) return;
    schedule(v);
    // At its end the run is read once more: the server's critical path.
    if (type === 'run.finished') load(v);
  }

  // apply changes the model for one event; it tells whether it did.
  function apply(v, type, m) {
    if (!v.data || !v.live) return false;
    if (m.run_id && v.data.runId && m.run_id !== v.data.runId) return false;
    const d = v.data;
    const at = K.parseTime(m.timestamp) ?? Date.now();
    const running = (w, origin) => d.bars.find((b) => b.end === null && b.worker === w && (!origin || b.origin === origin));
    switch (type) {
      case 'build.started': {
        if (typeof m.worker !== 'number' || m.worker < 0) return false;
        if (m.record_id && d.bars.some((b) => b.id === m.record_id)) return false;
        if (!d.slots.some((s) => s.worker === m.worker)) d.slots.push({ worker: m.worker, name: 'slot ' + m.worker });
        d.bars.push({ id: m.record_id || '', origin: m.package || '', worker: m.worker, status: 'running', start: at, end: null, phases: [], critical: false });
        break;
      }
      case 'build.phase': {
        const b = running(m.worker, m.package);
        if (!b || !m.phase) return false;
        const last = b.phases[b.phases.length - 1];
        if (last && last.phase === m.phase) return false;
        b.phases.push({ phase: m.phase, start: at });
        break;
      }
      case 'build.completed':
      case 'build.failed': {
        const b = running(m.worker, m.package);
        if (!b) return false;
        b.end = at;
        b.status = type === 'build.failed' ? 'failed' : (m.status === 'success' || !m.status ? 'success' : m.status);
        break;
      }
      case 'build.lost': {
        const b = (m.record_id && d.bars.find((x) => x.id === m.record_id)) || running(m.worker, m.package);
        if (!b) return false;
        b.end = b.end ?? at;
        b.status = 'lost';
        break;
      }
      case 'run.finished':
        v.live = false;
        clearInterval(v.ticker);
        d.end = at;
        for (const b of d.bars) if (b.end === null) b.end = at;
        break;
      default:
        return false;
    }
    return true;
  }

  // ---- drawing ---------------------------------------------------------------

  // lanesOf gives every slot a lane, slots named by the server first, then
  // any other worker a bar names.
  function lanesOf(d) {
    const lanes = d.slots.slice();
    const seen = new Set(lanes.map((s) => s.worker));
    for (const b of d.bars) {
      if (!seen.has(b.worker)) {
        seen.add(b.worker);
        lanes.push({ worker: b.worker, name: 'slot ' + b.worker });
      }
    }
    return lanes;
  }

  function draw(v) {
    const d = v.data;
    const now = Date.now();
    const lanes = lanesOf(d);
    const laneOf = new Map(lanes.map((s, i) => [s.worker, i]));
    let t0 = d.start;
    let t1 = v.live ? Math.max(d.end || 0, now) : d.end;
    for (const b of d.bars) {
      if (t0 === null || b.start < t0) t0 = b.start;
      const e = b.end ?? now;
      if (t1 === null || e > t1) t1 = e;
    }
    if (t0 === null) t0 = now;
    if (t1 === null || t1 <= t0) t1 = t0 + 60e3;
    const width = Math.max(MIN_W, Math.floor(v.host.clientWidth || MIN_W) - 2);
    const plotW = width - LABEL_W - PAD_R;
    const height = AXIS_H + lanes.length * LANE_H + 4;
    const x = (t) => LABEL_W + ((t - t0) / (t1 - t0)) * plotW;

    const frag = document.createDocumentFragment();
    // Lanes.
    lanes.forEach((s, i) => {
      const y = AXIS_H + i * LANE_H;
      frag.appendChild(svg('rect', { class: 'tl-lane' + (i % 2 ? ' odd' : ''), x: 0, y, width, height: LANE_H, data: { worker: s.worker } }));
      frag.appendChild(svg('text', { class: 'tl-lane-name', x: 6, y: y + LANE_H / 2 + 4 }, clip(s.name, 16)));
    });
    // Time axis.
    const step = K.timeStep(t1 - t0, Math.max(2, Math.floor(plotW / 110)));
    const first = Math.ceil(t0 / step) * step;
    for (let t = first; t <= t1; t += step) {
      const tx = x(t);
      frag.appendChild(svg('line', { class: 'tl-grid', x1: tx, x2: tx, y1: AXIS_H - 4, y2: height }));
      frag.appendChild(svg('text', { class: 'tl-tick', x: tx, y: AXIS_H - 8, 'text-anchor': 'middle' }, K.fmtClock(t)));
    }
    // Critical path links, behind the bars.
    const crit = d.bars.filter((b) => b.critical).sort((a, b) => a.start - b.start);
    for (let i = 1; i < crit.length; i++) {
      const a = crit[i - 1];
      const b = crit[i];
      const ya = AXIS_H + laneOf.get(a.worker) * LANE_H + LANE_H / 2;
      const yb = AXIS_H + laneOf.get(b.worker) * LANE_H + LANE_H / 2;
      frag.appendChild(svg('path', { class: 'tl-crit-link', d: `M${x(a.end ?? now)},${ya}L${x(b.start)},${yb}` }));
    }
    // Bars.
    const sorted = d.bars.slice().sort((a, b) => a.start - b.start);
    for (const b of sorted) frag.appendChild(bar(v, b, x, laneOf.get(b.worker), now, lanes));

    const title = 'Slot timeline: ' + d.bars.length + ' builds on ' + lanes.length + ' slots';
    const chart = svg('svg', {
      class: 'tl-svg', id: 'tl-svg', width, height, viewBox: `0 0 ${width} ${height}`,
      role: 'group', 'aria-labelledby': 'tl-svg-title',
    }, svg('title', { id: 'tl-svg-title' }, title));
    chart.appendChild(frag);
    v.chart.replaceChildren(chart, v.tip.node);
    v.tip.hide();

    const parts = [`${d.bars.length} builds`, `${lanes.length} slots`];
    const span = d.makespan ?? (t1 - t0);
    parts.push('makespan ' + K.fmtDur(span));
    if (typeof d.utilization === 'number') parts.push(`utilization ${(d.utilization * 100).toFixed(0)}%`);
    parts.push(`critical path ${crit.length} builds`);
    if (v.live) parts.push('live');
    v.summary.textContent = parts.join(' · ');
    v.table.replaceChildren(K.dataTable('Builds as a table', ['Port', 'Slot', 'Outcome', 'Start', 'Duration', 'Critical'],
      sorted.map((b) => [b.origin, lanes[laneOf.get(b.worker)].name, b.status, K.fmtClock(b.start),
        K.fmtDur((b.end ?? now) - b.start), b.critical ? 'yes' : ''])));
  }

  function clip(s, n) {
    return s.length > n ? s.slice(0, n - 1) + '…' : s;
  }

  // phaseSpans are a bar's phases with their ends (the next phase's
  // start, the bar's end).
  function phaseSpans(b, end) {
    return b.phases.map((p, i) => ({ phase: p.phase, start: p.start, end: i + 1 < b.phases.length ? b.phases[i + 1].start : end }));
  }

  function describe(b, laneName, now) {
    const end = b.end ?? now;
    const lines = [b.origin, `${b.status}${b.end === null ? ' (running)' : ''} on ${laneName}`,
      `${K.fmtClock(b.start)} – ${b.end === null ? 'now' : K.fmtClock(b.end)} (${K.fmtDur(end - b.start)})`];
    const spans = phaseSpans(b, end);
    if (spans.length) lines.push(spans.map((p) => `${p.phase} ${K.fmtDur(p.end - p.start)}`).join(', '));
    if (b.end === null && spans.length) lines.push('now in ' + spans[spans.length - 1].phase);
    if (b.critical) lines.push('on the critical path');
    return lines;
  }

  function bar(v, b, x, lane, now, lanes) {
    const end = b.end ?? now;
    const y = AXIS_H + lane * LANE_H + (LANE_H - BAR_H) / 2;
    const x0 = x(b.start);
    const w = Math.max(2, x(end) - x0);
    const o = outcomeOf(b.status);
    const lines = describe(b, lanes[lane].name, now);
    const g = svg('g', {
      class: 'tl-bar st-' + o + (b.critical ? ' critical' : '') + (b.end === null ? ' running' : ''),
      tabindex: 0, role: 'button', 'aria-label': lines.join('; '),
      data: { record: b.id, worker: b.worker, origin: b.origin },
    }, svg('title', {}, lines.join('\n')));
    const spans = phaseSpans(b, end);
    if (spans.length === 0) {
      g.appendChild(svg('rect', { class: 'tl-phase', x: x0, y, width: w, height: BAR_H }));
    } else {
      // Time before the first phase mark, then one segment per phase.
      const firstX = Math.max(x0, Math.min(x0 + w, x(spans[0].start)));
      if (firstX > x0) g.appendChild(svg('rect', { class: 'tl-phase ph-pre', x: x0, y, width: firstX - x0, height: BAR_H }));
      spans.forEach((p, i) => {
        const px = Math.max(x0, x(p.start));
        const pw = Math.max(0, Math.min(x0 + w, x(p.end)) - px);
        if (pw <= 0) return;
        g.appendChild(svg('rect', { class: 'tl-phase ph-' + (i % 2 ? 'b' : 'a'), x: px, y, width: pw, height: BAR_H, data: { phase: p.phase } }));
      });
    }
    g.appendChild(svg('rect', { class: 'tl-frame', x: x0, y, width: w, height: BAR_H }));
    if (w > 60) g.appendChild(svg('text', { class: 'tl-bar-label', x: x0 + 4, y: y + BAR_H - 5 }, clip(b.origin, Math.floor((w - 8) / 6.5))));
    const show = (cx, cy) => v.tip.show(lines, cx, cy);
    g.addEventListener('mousemove', (ev) => show(ev.clientX, ev.clientY));
    g.addEventListener('mouseleave', () => v.tip.hide());
    g.addEventListener('focus', () => {
      const r = g.getBoundingClientRect();
      show(r.left + Math.min(r.width, 40), r.bottom - 8);
    });
    g.addEventListener('blur', () => v.tip.hide());
    const open = () => K.openLog(b.id, b.origin);
    g.addEventListener('click', open);
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        open();
      }
    });
    return g;
  }

  window.dsynthViews = window.dsynthViews || {};
  const { mount, unmount } = window.dsynthKit.viewMounter(begin, stop);
  window.dsynthViews.timeline = { mount, unmount };
})();
