// go-dsynth dashboard: helpers shared by the timeline, graph and trends
// views (window.dsynthViewKit). Everything here builds DOM nodes; strings
// from the API become text nodes or attribute values, never markup.
'use strict';

(() => {
  const SVGNS = 'http://www.w3.org/2000/svg';

  // set applies props to an element: class, data (dataset), on<event>
  // listeners, text (textContent), other attributes through setAttribute.
  function set(e, props) {
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.setAttribute('class', v);
      else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    return e;
  }

  // add appends children: nodes, arrays of them, or anything else as text.
  function add(e, children) {
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      if (Array.isArray(c)) add(e, c);
      else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // el makes an HTML element.
  function el(tag, props, ...children) {
    return add(set(document.createElement(tag), props), children);
  }

  // svg makes an SVG element.
  function svg(tag, props, ...children) {
    return add(set(document.createElementNS(SVGNS, tag), props), children);
  }

  function parseTime(s) {
    if (typeof s !== 'string' || s === '' || s.startsWith('0001-01-01')) return null;
    const t = Date.parse(s);
    return Number.isNaN(t) ? null : t;
  }

  const pad = (n) => String(n).padStart(2, '0');

  // fmtClock is a local time of day, 10:30:05.
  function fmtClock(ms) {
    const t = new Date(ms);
    return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  }

  // fmtDate is a local date and time, 2025-01-15 10:30.
  function fmtDate(ms) {
    const t = new Date(ms);
    return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}`;
  }

  // fmtDur writes milliseconds as 45s, 4m0s, 1h2m3s, 850ms: the page's
  // own duration format (dsynthKit.fmtDuration, of nanoseconds).
  function fmtDur(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
    return window.dsynthKit.fmtDuration(ms * 1e6);
  }


  // goDuration parses a Go duration string ("1m2.5s") into milliseconds,
  // or null.
  function goDuration(s) {
    if (typeof s !== 'string' || s === '') return null;
    const re = /(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g;
    const unit = { h: 3600e3, m: 60e3, s: 1e3, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
    let total = 0;
    let seen = 0;
    let m;
    while ((m = re.exec(s)) !== null) {
      total += parseFloat(m[1]) * unit[m[2]];
      seen += m[0].length;
    }
    return seen === s.replace(/^-/, '').length ? total : null;
  }

  // niceStep is a round step (1, 2, 5 × 10^k) giving about n ticks over span.
  function niceStep(span, n) {
    if (!(span > 0)) return 1;
    const raw = span / Math.max(1, n);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const f of [1, 2, 5, 10]) if (raw <= f * p) return f * p;
    return 10 * p;
  }

  // timeStep is a round time step in milliseconds giving about n ticks.
  function timeStep(span, n) {
    const steps = [1e3, 5e3, 10e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3,
      7200e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3];
    const raw = span / Math.max(1, n);
    for (const s of steps) if (raw <= s) return s;
    return steps[steps.length - 1];
  }

  // originPath is the API path of an origin's package, or null.
  function originPath(origin) {
    const i = typeof origin === 'string' ? origin.indexOf('/') : -1;
    if (i <= 0 || i === origin.length - 1) return null;
    return '/packages/' + encodeURIComponent(origin.slice(0, i)) + '/' + encodeURIComponent(origin.slice(i + 1));
  }

  // message is an error's text for the page.
  function message(e) {
    if (!e) return 'unknown error';
    const status = e.status ? ` (${e.status})` : '';
    return (e.message || String(e)) + status;
  }

  // dataTable is the accessible alternative of a chart: a <details> with a
  // table of its values.
  function dataTable(summary, heads, rows) {
    return el('details', { class: 'data-table' },
      el('summary', {}, summary),
      el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': summary }, el('table', {},
        el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))))));
  }

  // kit is the page's shared interface, when the page provides one.
  const kit = () => window.dsynthKit || null;

  // onEvent subscribes fn to the page's live events; it returns the
  // unsubscribe function (a no-op without a page kit).
  function onEvent(fn) {
    const k = kit();
    if (k && typeof k.onEvent === 'function') {
      const off = k.onEvent(fn);
      return typeof off === 'function' ? off : () => {};
    }
    return () => {};
  }

  // openLog asks the page to open a build's log.
  function openLog(recordId, origin) {
    const k = kit();
    if (k && typeof k.openLog === 'function') k.openLog(recordId, origin);
  }

  // tooltip is a visible tooltip inside host (positioned relative to it).
  function tooltip(host) {
    const tip = el('div', { class: 'view-tip', role: 'tooltip', hidden: true });
    host.appendChild(tip);
    return {
      node: tip,
      show(lines, clientX, clientY) {
        tip.replaceChildren(...lines.map((l, i) => el(i === 0 ? 'strong' : 'div', {}, l)));
        tip.hidden = false;
        const r = host.getBoundingClientRect();
        let x = clientX - r.left + 12;
        const y = clientY - r.top + 12;
        const w = tip.offsetWidth;
        if (x + w > host.clientWidth) x = Math.max(0, clientX - r.left - w - 12);
        // CSSOM, not a style attribute: the page's policy allows it.
        tip.style.left = x + 'px';
        tip.style.top = y + 'px';
      },
      hide() {
        tip.hidden = true;
      },
    };
  }

  window.dsynthViews = window.dsynthViews || {};
  window.dsynthViewKit = {
    el, svg, set, add, parseTime, fmtClock, fmtDate, fmtDur, goDuration, niceStep, timeStep,
    originPath, message, dataTable, onEvent, openLog, tooltip,
  };
})();
