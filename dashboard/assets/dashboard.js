// go-dsynth dashboard: one page over the API of the same origin (/api/v1).
//
// The credential, an API key or a bearer token, comes from the fragment
// (#key=… or #token=…, removed from the address bar once read; the login
// through an OpenID Connect provider ends at #token=…) or from the form; it
// is kept in the tab's sessionStorage, nowhere else, and sent on every
// request: a token (three dot-separated parts) as Authorization: Bearer, a
// key as X-API-Key. Every string from the API reaches the page as
// text (textContent, text nodes, attribute values): nothing here parses
// HTML.
//
// Views are chosen by the fragment: #view=overview|control|timeline|graph|
// trends|logs, with the view's parameters beside it (#view=logs&record=ID,
// #view=graph&origin=cat/port, #view=timeline&run=ID, #port=cat/port for
// a port's history on the overview). Control is shown only when
// GET /api/v1/whoami lists the "build" permission.
//
// The timeline, graph and trends views live in timeline.js, graph.js and
// trends.js, with their styles in views.css: this file adds them to the
// page (after a HEAD request finds them, so that a build without them
// works and says so in the view). Each registers itself as
//
//   window.dsynthViews.NAME = { mount(el, api, params), unmount() }
//
// and is mounted into <section id="view-NAME">'s <div class="view-body">
// when its view is shown (params: the fragment's other parameters, as a
// plain object of strings), unmounted when the user leaves it. This file
// gives them, before they run:
//
//   window.dsynthKit = {
//     api(path, opts),     // GET/POST … /api/v1+path → Promise of the envelope's data;
//                          // opts {method, body (JSON), signal}; rejects with .status .code .message
//     el(tag, props, ...children), // an element; strings become text nodes
//     fmtDuration(ns),     // '1h2m3s', '45s', '850ms', '—'
//     fmtTime(t),          // local '2025-01-15 10:30:00' of a Date or an RFC 3339 string
//     onEvent(fn),         // fn(type, msg) for each live stream message; returns unsubscribe
//     openLog(recordID),   // the logs view of that build record
//     openGraph(origin),   // the graph view of that port
//     openTimeline(runID), // the timeline of that run ('' or 'current': the current one)
//     openPort(origin),    // the overview with the port's history
//     viewKit(),           // Promise of window.dsynthViewKit: viewkit.js, the helpers
//                          // the view files share, loaded once
//     viewMounter(start, stop), // {mount, unmount} of a view file: mount waits for
//                          // viewkit.js, then start(kit, el, api, params) unless the view
//                          // was mounted or unmounted again meanwhile; both call stop() first
//   }
//
// A view script that is missing or throws leaves a message in its section;
// the rest of the page goes on.
'use strict';

(() => {
  const API = '/api/v1';
  const KEY_STORE = 'go-dsynth.api-key';
  const PAGE_SIZE = 50; // builds per page
  const HISTORY_SIZE = 100; // builds of one port
  const FEED_MAX = 300; // live feed lines kept
  const BACKOFF_MIN = 1000;
  const BACKOFF_MAX = 30000;
  const REFRESH_DELAY = 250; // coalesces the refreshes a burst of events asks for
  const STATUSES = new Set(['running', 'success', 'failed', 'ignored', 'skipped']);
  // Messages after which the status panel is out of date.
  const REFRESH_STATUS = new Set(['run.started', 'run.finished', 'build.started',
    'build.completed', 'build.failed', 'build.ignored', 'build.skipped',
    'workers.limit', 'worker.status']);
  // Messages after which the build records and statistics are.
  const REFRESH_DATA = new Set(['run.finished', 'build.completed', 'build.failed',
    'build.ignored', 'build.skipped']);
  // Messages after which the control view is.
  const REFRESH_CONTROL = new Set(['build.state', 'run.started', 'run.finished', 'build.started',
    'build.phase', 'build.completed', 'build.failed', 'build.ignored', 'build.skipped', 'worker.status', 'worker.paused', 'worker.resumed']);
  // Frequent messages the feed does not list (system.load updates the
  // status panel in place).
  const QUIET = new Set(['build.output', 'build.progress', 'worker.idle', 'system.load']);

  const state = {
    key: '',
    open: false, // reading: with the key, or without one when the API allows it
    gen: 0, // bumped when the key changes: answers for an older key are dropped
    pages: [''], // cursors of the builds pages opened, first page first
    next: '', // cursor of the next older page, '' on the last one
    filter: { status: '', origin: '' },
    port: '', // origin whose history is open
    stream: null, // AbortController of the event stream
    backoff: BACKOFF_MIN,
    retryTimer: 0,
    refreshTimer: 0,
    refresh: { status: false, data: false },
    perms: [], // the principal's permissions (GET /whoami)
    view: 'overview', // the view shown
    params: {}, // its parameters, from the fragment
    mounted: null, // { name, view, key } of the mounted B2 view
    listeners: new Set(), // dsynthKit.onEvent subscribers
    control: { ports: [], completeTimer: 0, completeSeq: 0, refreshTimer: 0 },
    log: null, // the log shown: { id, lines, ctrl, running }
  };

  const $ = (id) => document.getElementById(id);

  // ---- DOM building: text only -------------------------------------------

  // el makes an element. props: class, data (dataset), on<event> listeners,
  // other attributes; children: nodes, or anything else as a text node.
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') {
        e.className = v;
      } else if (k === 'data') {
        for (const [dk, dv] of Object.entries(v)) {
          if (dv !== undefined && dv !== null) e.dataset[dk] = String(dv);
        }
      } else if (k.startsWith('on')) {
        e.addEventListener(k.slice(2), v);
      } else {
        e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // fields is a definition list; each value carries data-field=name.
  function fields(list) {
    return el('dl', { class: 'fields' }, list.map(([name, label, value, raw]) => [
      el('dt', {}, label),
      el('dd', { data: { field: name, value: raw } }, value === undefined || value === '' ? '—' : value),
    ]));
  }

  // counts is a row of big numbers; each carries data-field=name.
  function counts(list) {
    return el('div', { class: 'counts' }, list.map(([name, label, n, cls]) =>
      el('div', { class: 'count ' + (cls || '') },
        el('span', { class: 'n', data: { field: name } }, n === undefined ? 0 : n),
        el('span', { class: 'label' }, label))));
  }

  // ---- formatting -------------------------------------------------------------

  const pad = (n, w = 2) => String(n).padStart(w, '0');

  function parseTime(s) {
    if (typeof s !== 'string' || s === '' || s.startsWith('0001-01-01')) return null;
    const t = new Date(s);
    return Number.isNaN(t.getTime()) ? null : t;
  }

  // fmtTime is local time, 2025-01-15 10:30:00.
  function fmtTime(t) {
    return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
      `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  }

  function timeEl(s) {
    const t = parseTime(s);
    return t ? el('time', { datetime: s, title: t.toISOString() }, fmtTime(t)) : '—';
  }

  // clockEl is a recent time: the clock only, the full time as title.
  function clockEl(s) {
    const t = parseTime(s);
    return t ? el('time', { datetime: s, title: fmtTime(t) }, clock(s)) : '—';
  }

  function clock(s) {
    const t = parseTime(s) || new Date();
    return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  }

  // goDuration writes nanoseconds as the API writes durations (Go's
  // time.Duration.String, rounded to the second, to the millisecond below
  // one second): 45s, 4m0s, 1h2m3s, 850ms.
  function goDuration(ns) {
    if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0) return '—';
    if (ns < 1e9) {
      const ms = Math.round(ns / 1e6);
      return ms === 0 ? '0s' : ms === 1000 ? '1s' : ms + 'ms';
    }
    let s = Math.round(ns / 1e9);
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    if (h > 0) return `${h}h${m}m${s}s`;
    if (m > 0) return `${m}m${s}s`;
    return `${s}s`;
  }

  function fmtNum(x, digits) {
    return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '—';
  }

  function originOf(rec) {
    const id = (rec && rec.id) || {};
    let o = id.portdir || '';
    if (id.flavor && !o.includes('@')) o += '@' + id.flavor;
    return o;
  }

  // lastRepro is the latest `dsynth reproduce` verdict of a record, or
  // null; reproEl shows it ("reproducible", or what differs).
  function lastRepro(r) {
    const list = (r && r.reproductions) || [];
    return list.length > 0 ? list[list.length - 1] : null;
  }

  function reproText(v) {
    if (v.verdict === 'failed') return 'rebuild failed';
    if (v.verdict === 'differs' && (v.files || []).length > 0) return 'differs: ' + v.files.join(', ');
    return v.verdict;
  }

  function reproEl(r) {
    const v = lastRepro(r);
    if (!v) return null;
    return el('span', { class: 'repro repro-' + (v.verdict === 'reproducible' ? 'ok' : 'bad'), title: v.detail || '', data: { verdict: v.verdict } }, reproText(v));
  }

  function statusClass(s) {
    return 'status status-' + (STATUSES.has(s) ? s : 'other');
  }

  // originLink opens the port's history (#port=origin).
  function originLink(origin) {
    return el('a', { class: 'origin', href: '#port=' + encodeURIComponent(origin), data: { origin } }, origin);
  }

  // ---- API ------------------------------------------------------------------

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // Stale is thrown for an answer to a key that is no longer in use.
  class Stale extends Error {}

  const isAuth = (e) => e instanceof APIError && (e.status === 401 || e.status === 403);

  // isToken tells a bearer token (a JWT: three dot-separated parts) from
  // an API key.
  const isToken = (cred) => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(cred);

  function headers(accept) {
    const h = { Accept: accept };
    if (state.key && isToken(state.key)) h.Authorization = 'Bearer ' + state.key;
    else if (state.key) h['X-API-Key'] = state.key;
    return h;
  }

  // errorOf reads an error envelope; the API's message is what the page
  // shows.
  async function errorOf(resp) {
    let body = null;
    try {
      body = await resp.json();
    } catch (_) {
      // not JSON: a proxy's page, say
    }
    const b = body && typeof body === 'object' ? body.error : null;
    return new APIError(resp.status, (b && b.code) || 'HTTP_' + resp.status,
      (b && b.message) || `the API answered ${resp.status} ${resp.statusText}`.trim());
  }

  // api calls an endpoint (GET unless opts.method says otherwise, opts.body
  // sent as JSON, opts.signal to abort) and returns the envelope's data.
  async function api(path, opts) {
    const o = opts || {};
    const gen = state.gen;
    const init = { method: o.method || 'GET', headers: headers('application/json'), cache: 'no-store', credentials: 'omit', signal: o.signal };
    if (o.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(o.body);
    }
    let resp;
    try {
      resp = await fetch(API + path, init);
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new APIError(0, 'NETWORK', `cannot reach the API (${e.message})`);
    }
    if (gen !== state.gen) throw new Stale();
    if (!resp.ok) throw await errorOf(resp);
    let body;
    try {
      body = await resp.json();
    } catch (_) {
      throw new APIError(resp.status, 'BAD_ANSWER', 'the API answer is not JSON');
    }
    if (gen !== state.gen) throw new Stale();
    if (!body || body.status !== 'success') throw new APIError(resp.status, 'BAD_ANSWER', 'the API answer is not a success envelope');
    return body.data;
  }

  // kitAPI is api for the views of the other files: a refused credential
  // brings the login prompt back.
  async function kitAPI(path, opts) {
    try {
      return await api(path, opts);
    } catch (e) {
      if (e instanceof APIError && e.status === 401) authFailed(e);
      throw e;
    }
  }

  // errorText is an error as the page shows it.
  function errorText(e) {
    return e.message + (e.code ? ` (${e.code}${e.status ? ', HTTP ' + e.status : ''})` : '');
  }

  function showPanelError(panel, e) {
    const p = document.querySelector(`[data-error-for="${panel}"]`);
    if (!p) return;
    if (!e) {
      p.hidden = true;
      p.textContent = '';
      return;
    }
    p.hidden = false;
    p.textContent = errorText(e);
  }

  // load runs one panel's loader: its errors show in the panel, except a
  // refused key, which brings the key prompt back. It returns 'ok',
  // 'error', 'auth' or 'stale'.
  async function load(panel, fn) {
    const gen = state.gen;
    try {
      await fn();
      if (gen !== state.gen) return 'stale';
      showPanelError(panel, null);
      return 'ok';
    } catch (e) {
      if (e instanceof Stale || gen !== state.gen) return 'stale';
      if (isAuth(e)) {
        authFailed(e);
        return 'auth';
      }
      showPanelError(panel, e);
      return 'error';
    }
  }

  // ---- key ------------------------------------------------------------------

  // markHash records the fragment on <html data-url-hash>, so a test (or
  // anyone) can see the key was removed from the address bar.
  function markHash() {
    document.documentElement.dataset.urlHash = location.hash;
  }

  // takeFragment reads the fragment: it removes key=…, token=… and
  // login_error=… from the address bar (replaceState: no history entry
  // keeps them) and returns the credential, the login's error and the
  // port to show.
  function takeFragment() {
    const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    let key = null;
    let loginError = '';
    let taken = false;
    for (const name of ['key', 'token']) {
      if (frag.has(name)) {
        key = (frag.get(name) || '').trim();
        frag.delete(name);
        taken = true;
      }
    }
    if (frag.has('login_error')) {
      loginError = frag.get('login_error') || 'the login failed';
      frag.delete('login_error');
      taken = true;
    }
    if (taken) {
      const rest = frag.toString();
      history.replaceState(history.state, '', location.pathname + location.search + (rest ? '#' + rest : ''));
    }
    markHash();
    return { key, loginError, port: frag.get('port') || '' };
  }

  // offerLogin shows the single sign-on link when the server offers the
  // login through an OpenID Connect provider (GET /auth/oidc answers).
  function offerLogin() {
    fetch('/auth/oidc', { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' })
      .then((resp) => (resp.ok ? resp.json() : null))
      .then((info) => {
        if (!info || typeof info.login !== 'string' || !info.login.startsWith('/auth/oidc/')) return;
        $('sso-link').href = info.login;
        $('sso').hidden = false;
      })
      .catch(() => {});
  }

  // useKey starts reading with key ('' when the API allows reading
  // without one).
  function useKey(key) {
    stopStream();
    state.key = key;
    state.open = true;
    state.gen++;
    if (key) {
      try {
        sessionStorage.setItem(KEY_STORE, key);
      } catch (_) {
        // storage disabled: the key lasts until the page is reloaded
      }
    }
    state.pages = [''];
    state.next = '';
    state.backoff = BACKOFF_MIN;
    document.body.dataset.state = 'loading';
    $('auth').hidden = true;
    $('data').hidden = false;
    $('forget').hidden = !key;
    loadAll();
  }

  function dropKey() {
    stopStream();
    try {
      sessionStorage.removeItem(KEY_STORE);
    } catch (_) {
      // nothing stored
    }
    state.key = '';
    state.open = false;
    state.gen++;
    state.perms = [];
    unmountView();
    closeLog();
    $('nav-control').hidden = true;
    $('who').hidden = true;
    document.body.dataset.control = 'no';
    clearData();
  }

  function authFailed(e) {
    const what = isToken(state.key) ? 'token' : 'key';
    dropKey();
    showPrompt(`The API refused the ${what}: ${e.message} (${e.code}, HTTP ${e.status}).`);
  }

  function showPrompt(message) {
    document.body.dataset.state = message ? 'auth-failed' : 'no-key';
    $('auth').hidden = false;
    $('data').hidden = true;
    $('forget').hidden = true;
    const m = $('auth-message');
    m.textContent = message || '';
    m.hidden = !message;
    setConn('off');
    $('key-input').value = '';
    $('key-input').focus();
  }

  function clearData() {
    for (const id of ['status-body', 'stats-body', 'history-body', 'builds-rows', 'feed-list',
      'queue-rows', 'finished-rows', 'worker-rows', 'start-profile', 'port-options', 'start-ports', 'log-text', 'log-about']) $(id).replaceChildren();
    state.control.ports = [];
    controlAlert(null);
    controlNote('');
    $('log-panel').hidden = true;
    for (const p of document.querySelectorAll('[data-error-for]')) showPanelError(p.dataset.errorFor, null);
    $('status').dataset.active = 'unknown';
    $('history').hidden = true;
  }

  // ---- loading --------------------------------------------------------------

  async function loadAll() {
    const gen = state.gen;
    try {
      await loadWhoami();
    } catch (_) {
      return; // stale
    }
    if (gen !== state.gen) return;
    const { view, params } = readRoute();
    showView(view, params, false);
    const r = await load('status', loadStatus);
    if (r === 'auth' || r === 'stale') return;
    const rs = await Promise.all([load('stats', loadStats), load('builds', loadBuilds), load('history', loadHistory)]);
    if (gen !== state.gen || rs.includes('auth')) return;
    document.body.dataset.state = 'ready';
    startStream();
  }

  async function loadStatus() {
    renderStatus(await api('/status'));
  }

  function renderStatus(d) {
    const body = $('status-body');
    const panel = $('status');
    if (d && d.active && d.run) {
      const r = d.run;
      const w = d.workers || {};
      const c = r.counts || {};
      panel.dataset.active = 'yes';
      body.replaceChildren(
        el('p', { class: 'run-state active', data: { field: 'status-state' } }, 'Run in progress'),
        fields([
          ['status-directive', 'Directive', r.directive],
          ['status-profile', 'Profile', r.profile],
          ['status-started', 'Started', timeEl(r.started)],
          ['status-workers', 'Workers busy', `${w.busy || 0} / ${w.total || 0}`],
          ['status-limit', 'Worker limit', w.limit],
          ['status-load', 'Load', d.load ? fmtNum(d.load.load1, 2) : '—'],
          ['status-swap', 'Swap', d.load && typeof d.load.swap_percent === 'number' ? fmtNum(d.load.swap_percent, 1) + ' %' : '—'],
          ['status-run', 'Run', r.run_id],
        ]),
        counts([
          ['status-built', 'built', c.built, 'ok'],
          ['status-failed', 'failed', c.failed, 'bad'],
          ['status-ignored', 'ignored', c.ignored, 'warn'],
          ['status-skipped', 'skipped', c.skipped, 'warn'],
          ['status-remaining', 'remaining', r.remaining],
          ['status-to-build', 'to build', r.to_build],
          ['status-already-built', 'already built', c.already_built],
          ['status-meta', 'meta', c.meta],
        ]),
        workersTable(w.slots || []),
      );
    } else if (d && d.last_run) {
      const r = d.last_run;
      const c = r.counts || {};
      const end = parseTime(r.end);
      const start = parseTime(r.start);
      panel.dataset.active = 'no';
      body.replaceChildren(
        el('p', { class: 'run-state idle', data: { field: 'status-state' } }, 'No run in progress'),
        el('h3', {}, 'Last run'),
        fields([
          ['status-directive', 'Directive', [r.directive, ...(r.args || [])].filter(Boolean).join(' ')],
          ['status-profile', 'Profile', r.profile],
          ['status-started', 'Started', timeEl(r.start)],
          ['status-ended', 'Ended', end ? timeEl(r.end) : 'not recorded (interrupted?)'],
          ['status-duration', 'Duration', end && start ? goDuration((end - start) * 1e6) : '—'],
          ['status-aborted', 'Aborted', r.aborted ? 'yes' : 'no'],
        ]),
        counts([
          ['status-built', 'built', c.built, 'ok'],
          ['status-failed', 'failed', c.failed, 'bad'],
          ['status-ignored', 'ignored', c.ignored, 'warn'],
          ['status-skipped', 'skipped', c.skipped, 'warn'],
          ['status-missing', 'missing', c.missing],
          ['status-queued', 'queued', c.queued],
        ]),
      );
    } else {
      panel.dataset.active = 'no';
      body.replaceChildren(el('p', { class: 'run-state none', data: { field: 'status-state' } }, 'No run in progress, and none recorded yet.'));
    }
  }

  function workersTable(slots) {
    if (slots.length === 0) return null;
    return el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Workers table' }, el('table', { class: 'workers' },
      el('thead', {}, el('tr', {}, ['Worker', 'State', 'Port', 'Phase', 'Since', 'Log'].map((h) => el('th', {}, h)))),
      el('tbody', {}, slots.map((s) => el('tr', { data: { worker: s.worker, state: s.status } },
        el('td', {}, s.worker),
        el('td', { class: 'wstate wstate-' + (s.status === 'busy' ? 'busy' : s.status === 'idle' ? 'idle' : 'other') }, s.status),
        el('td', {}, s.package ? originLink(s.package) : ''),
        el('td', {}, s.phase || ''),
        el('td', {}, clockEl(s.since)),
        el('td', {}, s.package && (s.build_id || s.record_id) ? logLink(s.build_id || s.record_id, 'log of ' + s.package) : ''))))));
  }

  // updateLoad shows a system.load sample in the status panel.
  function updateLoad(m) {
    if ($('status').dataset.active !== 'yes') return;
    const set = (name, text) => {
      const e = document.querySelector(`[data-field="${name}"]`);
      if (e) e.textContent = text;
    };
    set('status-load', fmtNum(m.load1, 2));
    set('status-swap', typeof m.swap_percent === 'number' ? fmtNum(m.swap_percent, 1) + ' %' : '—');
    set('status-limit', String(m.limit));
  }

  async function loadStats() {
    const s = await api('/stats');
    const slow = s.slowest || [];
    $('stats-body').replaceChildren(
      counts([
        ['stats-total', 'builds', s.total_builds],
        ['stats-successful', 'successful', s.successful, 'ok'],
        ['stats-failed', 'failed', s.failed, 'bad'],
      ]),
      fields([
        ['stats-success-rate', 'Success rate', fmtNum(s.success_rate, 1) + ' %', s.success_rate],
        ['stats-avg-time', 'Average build time', s.avg_build_time],
        ['stats-total-time', 'Total build time', s.total_build_time],
        ['stats-per-hour', 'Packages per hour', fmtNum(s.packages_per_hour, 1), s.packages_per_hour],
        ['stats-busiest', 'Busiest worker', s.busiest_worker >= 0 ? s.busiest_worker : '—'],
      ]),
      slow.length === 0 ? null : el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Slowest ports table' }, el('table', { class: 'slowest' },
        el('caption', {}, 'Slowest ports (average successful build)'),
        el('thead', {}, el('tr', {}, el('th', {}, 'Origin'), el('th', {}, 'Average'), el('th', {}, 'Builds'))),
        el('tbody', {}, slow.map((p) => el('tr', { data: { origin: p.portdir } },
          el('td', {}, originLink(p.portdir)),
          el('td', { class: 'num' }, p.avg_time),
          el('td', { class: 'num' }, p.builds)))))),
    );
  }

  // recordRow is one build record; withOrigin adds the origin column.
  function recordRow(r, withOrigin) {
    const origin = originOf(r);
    const id = r.id || {};
    let detail = [];
    if (r.phase) detail.push(el('span', { class: 'phase' }, r.phase));
    if (r.error) detail.push(el('span', { class: 'error-text' }, r.error));
    if (r.status === 'success' && r.pkg_file) detail.push(el('span', { class: 'pkg' }, r.pkg_file));
    const repro = reproEl(r);
    if (repro) detail.push(repro);
    detail = detail.flatMap((d, i) => (i === 0 ? [d] : [' ', d]));
    return el('tr', { data: { id: id.uuid, origin, status: r.status, version: id.version } },
      withOrigin ? el('td', {}, originLink(origin)) : null,
      el('td', {}, id.version || ''),
      el('td', {}, el('span', { class: statusClass(r.status) }, r.status)),
      el('td', { class: 'num' }, typeof id.worker === 'number' && id.worker >= 0 ? id.worker : '—'),
      el('td', {}, timeEl(r.start_time)),
      el('td', { class: 'num' }, r.status === 'running' ? 'running' : goDuration(r.duration_ns)),
      el('td', { class: 'detail' }, detail),
      el('td', {}, hasLog(r.status) && id.uuid ? logLink(id.uuid, 'log of ' + origin + ' ' + (id.version || '')) : ''));
  }

  // hasLog tells whether a record of that status has a build log.
  const hasLog = (st) => st === 'success' || st === 'failed' || st === 'running' || st === 'lost';

  // logLink opens a build record's log in the logs view.
  function logLink(recordID, label) {
    return el('a', { class: 'log-link', href: '#view=logs&record=' + encodeURIComponent(recordID), 'aria-label': label || 'log', data: { record: recordID } }, 'log');
  }

  async function loadBuilds() {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.filter.status) q.set('status', state.filter.status);
    if (state.filter.origin) q.set('origin', state.filter.origin);
    const cursor = state.pages[state.pages.length - 1];
    if (cursor) q.set('cursor', cursor);
    const d = await api('/records?' + q.toString());
    const list = d.records || [];
    state.next = d.next_cursor || '';
    $('builds-rows').replaceChildren(...(list.length > 0
      ? list.map((r) => recordRow(r, true))
      : [el('tr', { class: 'empty' }, el('td', { colspan: 8 }, 'No build matches.'))]));
    $('older').disabled = !state.next;
    $('newer').disabled = state.pages.length <= 1;
    $('newest').disabled = state.pages.length <= 1;
    $('page-no').textContent = `page ${state.pages.length}`;
    $('builds').dataset.page = String(state.pages.length);
  }

  // originPath is the API path of an origin's package, or null.
  function originPath(origin) {
    const i = origin.indexOf('/');
    if (i <= 0 || i === origin.length - 1) return null;
    return '/packages/' + encodeURIComponent(origin.slice(0, i)) + '/' + encodeURIComponent(origin.slice(i + 1));
  }

  async function loadHistory() {
    const origin = state.port;
    const panel = $('history');
    if (!origin) {
      panel.hidden = true;
      $('history-body').replaceChildren();
      return;
    }
    panel.hidden = false;
    panel.dataset.origin = origin;
    $('history-origin').textContent = origin;
    const path = originPath(origin);
    if (!path) {
      $('history-body').replaceChildren();
      throw new APIError(0, 'INVALID_ORIGIN', `"${origin}" is not an origin (category/port or category/port@flavor)`);
    }
    let pkg;
    let hist;
    try {
      [pkg, hist] = await Promise.all([api(path), api(path + '/history?limit=' + HISTORY_SIZE)]);
    } catch (e) {
      if (!(e instanceof Stale) && origin === state.port) $('history-body').replaceChildren();
      throw e;
    }
    if (origin !== state.port) return; // another port was opened meanwhile
    const good = pkg.last_good;
    const gid = (good && good.id) || {};
    $('history-body').replaceChildren(
      el('p', {}, el('a', { class: 'graph-link', href: '#' + new URLSearchParams({ view: 'graph', origin }).toString() }, 'Dependency graph'),
        ' · ', el('a', { href: '#view=trends' }, 'Trends')),
      el('h3', {}, 'Last known good build'),
      good ? fields([
        ['good-version', 'Version', gid.version],
        ['good-pkg', 'Package', good.pkg_file],
        ['good-started', 'Built', timeEl(good.start_time)],
        ['good-duration', 'Took', goDuration(good.duration_ns)],
        ['good-worker', 'Worker', typeof gid.worker === 'number' && gid.worker >= 0 ? gid.worker : '—'],
        ['good-id', 'Build', gid.uuid],
        ['good-repro', 'Reproduced', lastRepro(good) ? reproText(lastRepro(good)) : 'not yet (dsynth reproduce ' + (gid.uuid || 'BUILD') + ')'],
      ]) : el('p', { class: 'none', data: { field: 'good-none' } }, 'No successful build is recorded.'),
      fields([
        ['history-avg', 'Average successful build', pkg.successful_builds > 0 ? pkg.average_duration : '—'],
        ['history-successful', 'Successful builds', pkg.successful_builds],
        ['history-count', 'Builds listed', hist.count],
      ]),
      el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Builds of the port table' }, el('table', { class: 'records' },
        el('thead', {}, el('tr', {}, ['Version', 'Status', 'Worker', 'Start', 'Duration', 'Phase / error / package', 'Log'].map((h) => el('th', {}, h)))),
        el('tbody', { id: 'history-rows' }, (hist.builds || []).map((r) => recordRow(r, false))))),
    );
  }

  // ---- refresh on events ---------------------------------------------------

  function scheduleRefresh(status, data) {
    state.refresh.status = state.refresh.status || status;
    state.refresh.data = state.refresh.data || data;
    if (state.refreshTimer || !(state.refresh.status || state.refresh.data)) return;
    state.refreshTimer = setTimeout(() => {
      const { status: s, data: d } = state.refresh;
      state.refresh = { status: false, data: false };
      state.refreshTimer = 0;
      if (!state.open) return;
      if (s) load('status', loadStatus);
      if (d) {
        load('stats', loadStats);
        load('builds', loadBuilds);
        if (state.port) load('history', loadHistory);
      }
    }, REFRESH_DELAY);
  }

  // ---- live feed ------------------------------------------------------------

  const CONN_TEXT = { off: 'not connected', connecting: 'connecting…', live: 'live', waiting: 'disconnected' };

  function setConn(st, text) {
    const c = $('conn');
    c.dataset.state = st;
    c.textContent = text || CONN_TEXT[st] || st;
  }

  // sseParser returns a function fed with decoded text that calls
  // onEvent(type, data) for every complete event (the Server-Sent Events
  // format: field lines, a blank line ends an event, ':' starts a comment).
  function sseParser(onEvent) {
    let buf = '';
    let data = [];
    let type = '';
    return (chunk) => {
      buf += chunk;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buf);
        if (!m) return;
        if (m[0] === '\r' && m.index === buf.length - 1) return; // may be half of \r\n
        const line = buf.slice(0, m.index);
        buf = buf.slice(m.index + m[0].length);
        if (line === '') {
          if (data.length > 0) onEvent(type || 'message', data.join('\n'));
          data = [];
          type = '';
          continue;
        }
        if (line.startsWith(':')) continue;
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        let value = c < 0 ? '' : line.slice(c + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') type = value;
        else if (field === 'data') data.push(value);
      }
    };
  }

  function startStream() {
    stopStream();
    const ctrl = new AbortController();
    state.stream = ctrl;
    runStream(ctrl, state.gen, false);
  }

  function stopStream() {
    clearTimeout(state.retryTimer);
    state.retryTimer = 0;
    if (state.stream) {
      state.stream.abort();
      state.stream = null;
    }
    setConn('off');
  }

  // runStream reads GET /api/v1/events until it ends, then tries again
  // after a delay that doubles up to BACKOFF_MAX. EventSource cannot send
  // the key header, so this is fetch reading the body as it comes.
  async function runStream(ctrl, gen, again) {
    const live = () => !ctrl.signal.aborted && gen === state.gen && state.stream === ctrl;
    setConn('connecting');
    const opened = Date.now();
    let why = 'the event stream ended';
    try {
      const resp = await fetch(API + '/events', {
        headers: headers('text/event-stream'), cache: 'no-store', credentials: 'omit', signal: ctrl.signal,
      });
      if (!resp.ok) {
        const e = await errorOf(resp);
        if (isAuth(e)) {
          if (live()) authFailed(e);
          return;
        }
        throw e;
      }
      if (!live()) return;
      setConn('live');
      if (again) scheduleRefresh(true, true); // events may have been missed meanwhile
      const parse = sseParser(onMessage);
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || !live()) break;
        parse(value);
      }
    } catch (e) {
      why = e.message || String(e);
    }
    if (!live()) return;
    if (Date.now() - opened > 10000) state.backoff = BACKOFF_MIN;
    const delay = Math.round(state.backoff * (1 + Math.random() * 0.2));
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX);
    setConn('waiting', `${why}; reconnecting in ${Math.ceil(delay / 1000)} s`);
    state.retryTimer = setTimeout(() => {
      if (live()) runStream(ctrl, gen, true);
    }, delay);
  }

  function onMessage(type, data) {
    let m = null;
    try {
      m = JSON.parse(data);
    } catch (_) {
      // shown raw below
    }
    if (!m || typeof m !== 'object') {
      addFeed(type, {}, data);
      return;
    }
    if (typeof m.type === 'string' && m.type) type = m.type;
    if (type === 'system.load') updateLoad(m);
    if (!QUIET.has(type)) addFeed(type, m, '');
    scheduleRefresh(REFRESH_STATUS.has(type), REFRESH_DATA.has(type));
    if (REFRESH_CONTROL.has(type)) scheduleControl();
    for (const fn of [...state.listeners]) {
      try {
        fn(type, m);
      } catch (e) {
        // one view's mistake does not stop the feed
        setTimeout(() => { throw e; });
      }
    }
  }

  function kindOf(type, m) {
    switch (type) {
      case 'build.completed': return m.status === 'success' ? 'ok' : 'info';
      case 'build.failed': case 'stream.overflow': return 'bad';
      case 'build.ignored': case 'build.skipped': case 'worker.status': case 'workers.limit': return 'warn';
      default: return 'info';
    }
  }

  // describe is a message in words (text, never markup).
  function describe(type, m, raw) {
    const w = typeof m.worker === 'number' ? ` on worker ${m.worker}` : '';
    const c = m.counts || {};
    switch (type) {
      case 'run.started':
        return `${m.directive || 'run'} started (profile ${m.profile}, ${m.queued} queued, ${m.max_workers} workers)`;
      case 'run.finished':
        return `run ${m.aborted ? 'aborted' : 'finished'} after ${m.duration}: ${c.built || 0} built, ` +
          `${c.failed || 0} failed, ${c.ignored || 0} ignored, ${c.skipped || 0} skipped`;
      case 'build.queued':
        return `${m.package} queued${m.reason ? ': ' + m.reason : ''}`;
      case 'build.started':
        return `${m.package} started${w}`;
      case 'build.phase':
        return `${m.package}: ${m.phase}${w}`;
      case 'build.completed':
        return `${m.package} ${m.status} in ${m.duration}${w}${m.pkg_file ? ' → ' + m.pkg_file : ''}`;
      case 'build.failed':
        return `${m.package} failed${m.phase ? ' in ' + m.phase : ''} after ${m.duration}${w}${m.error ? ': ' + m.error : ''}`;
      case 'build.ignored':
      case 'build.skipped':
        return `${m.package} ${m.status}${m.reason ? ': ' + m.reason : ''}`;
      case 'worker.status':
        return `worker ${m.worker} is ${m.status}`;
      case 'build.state':
        return `build ${String(m.build_id || '').slice(0, 8)} is ${m.state}${m.error ? ': ' + m.error : ''}`;
      case 'workers.limit':
        return m.line || `worker limit ${m.from} → ${m.to}`;
      case 'log.line':
        return (typeof m.worker === 'number' ? `[${m.worker}] ` : '') + m.line;
      case 'stream.overflow':
        return m.message;
      default:
        return raw || JSON.stringify(m);
    }
  }

  function addFeed(type, m, raw) {
    const list = $('feed-list');
    list.prepend(el('li', { class: 'ev ev-' + kindOf(type, m), data: { type, package: m.package } },
      el('time', { datetime: m.timestamp }, clock(m.timestamp)),
      el('span', { class: 'ev-type' }, type),
      el('span', { class: 'ev-text' }, describe(type, m, raw))));
    while (list.childElementCount > FEED_MAX) list.lastElementChild.remove();
  }

  // ---- views and navigation ---------------------------------------------------

  const VIEWS = ['overview', 'control', 'timeline', 'graph', 'trends', 'logs'];
  const EXTERNAL = new Set(['timeline', 'graph', 'trends']); // B2's files

  // readRoute is the fragment's view and parameters (key, token and
  // login_error are taken by takeFragment before).
  function readRoute() {
    const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    let view = frag.get('view') || 'overview';
    if (!VIEWS.includes(view)) view = 'overview';
    const params = {};
    for (const [k, v] of frag) if (k !== 'view') params[k] = v;
    return { view, params };
  }

  // go sets the fragment to a view and its parameters.
  function go(view, params) {
    const q = new URLSearchParams({ view });
    for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
    location.hash = q.toString();
  }

  const canBuild = () => state.perms.includes('build');

  // showView shows one view, hides the others, mounts an external view
  // and, when focus says so, moves the focus to the view's heading.
  function showView(view, params, focus) {
    if (view === 'control' && !canBuild()) view = 'overview';
    const prevView = state.view;
    state.view = view;
    state.params = params;
    for (const v of VIEWS) {
      const sec = $('view-' + v);
      if (sec) sec.hidden = v !== view;
    }
    for (const a of document.querySelectorAll('#views-nav a[data-view]')) {
      if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.body.dataset.view = view;
    const key = view + '?' + new URLSearchParams(params).toString();
    if (state.mounted && (state.mounted.key !== key || !state.open)) unmountView();
    if (!state.open) return;
    if (EXTERNAL.has(view) && !state.mounted) mountView(view, params, key);
    if (view === 'control') loadControl();
    if (view === 'logs') openLogView(params.record || '');
    else if (prevView === 'logs') closeLog();
    if (view === 'graph') $('graph-origin').value = params.origin || '';
    if (focus && prevView !== view) {
      const h = document.querySelector(`#view-${view} .view-title`);
      if (h) h.focus({ preventScroll: false });
    }
  }

  function viewError(view, text) {
    const p = document.querySelector(`#view-${view} .view-error`);
    if (!p) return;
    p.hidden = !text;
    p.textContent = text || '';
  }

  // viewFiles are the view files' load states: loading, ok, missing.
  const viewFiles = {};

  // loadViewFiles adds views.css and the view scripts that the server has.
  function loadViewFiles() {
    const exists = (name) => fetch(name, { method: 'HEAD', cache: 'no-store', credentials: 'omit' })
      .then((r) => r.ok).catch(() => false);
    exists('views.css').then((ok) => {
      if (ok) document.head.append(el('link', { rel: 'stylesheet', href: 'views.css' }));
    });
    for (const name of EXTERNAL) {
      viewFiles[name] = 'loading';
      exists(name + '.js').then((ok) => {
        if (!ok) {
          viewFiles[name] = 'missing';
          retryMount(name);
          return;
        }
        const s = el('script', { src: name + '.js' });
        s.addEventListener('load', () => {
          viewFiles[name] = 'ok';
          retryMount(name);
        });
        s.addEventListener('error', () => {
          viewFiles[name] = 'missing';
          retryMount(name);
        });
        document.head.append(s);
      });
    }
  }

  // retryMount mounts a view whose file arrived while it was shown.
  function retryMount(name) {
    if (state.open && state.view === name && !state.mounted) showView(name, state.params, false);
  }

  // mountView mounts B2's view; its absence or its error is shown as text.
  function mountView(view, params, key) {
    const body = document.querySelector(`#view-${view} .view-body`);
    const impl = window.dsynthViews && window.dsynthViews[view];
    body.replaceChildren();
    viewError(view, '');
    document.getElementById('view-' + view).dataset.mounted = 'no';
    if (!impl && viewFiles[view] === 'loading') return; // retryMount will
    if (!impl || typeof impl.mount !== 'function') {
      viewError(view, `The ${view} view is not available in this build of the dashboard (${view}.js did not load).`);
      return;
    }
    state.mounted = { name: view, impl, key };
    try {
      const r = impl.mount(body, kitAPI, Object.assign({}, params));
      if (r && typeof r.catch === 'function') r.catch((e) => viewError(view, `The ${view} view failed: ${e && e.message ? e.message : e}`));
      document.getElementById('view-' + view).dataset.mounted = 'yes';
    } catch (e) {
      viewError(view, `The ${view} view failed: ${e && e.message ? e.message : e}`);
    }
  }

  function unmountView() {
    const m = state.mounted;
    if (!m) return;
    state.mounted = null;
    try {
      if (typeof m.impl.unmount === 'function') m.impl.unmount();
    } catch (e) {
      viewError(m.name, `The ${m.name} view failed to stop: ${e && e.message ? e.message : e}`);
    }
    const body = document.querySelector(`#view-${m.name} .view-body`);
    if (body) body.replaceChildren();
    document.getElementById('view-' + m.name).dataset.mounted = 'no';
  }

  // ---- who am I: the permissions ----------------------------------------------

  async function loadWhoami() {
    let who = null;
    try {
      who = await api('/whoami');
    } catch (e) {
      if (e instanceof Stale) throw e;
      who = null; // an older server, or refused: no control
    }
    state.perms = who && Array.isArray(who.permissions) ? who.permissions.map(String) : [];
    const w = $('who');
    if (who && who.name) {
      w.hidden = false;
      w.textContent = `${who.name} (${who.role || state.perms.join(', ')})`;
    } else {
      w.hidden = true;
      w.textContent = '';
    }
    $('nav-control').hidden = !canBuild();
    document.body.dataset.control = canBuild() ? 'yes' : 'no';
  }

  // ---- control ------------------------------------------------------------------

  function controlAlert(e) {
    const p = $('control-alert');
    p.hidden = !e;
    p.textContent = e ? errorText(e) : '';
  }

  function controlNote(text) {
    $('control-note').textContent = text || '';
  }

  // act runs one control call; its error goes to the alert region, and
  // the control view is reloaded after it.
  async function act(what, fn, note) {
    controlAlert(null);
    controlNote('');
    let err = null;
    let res;
    try {
      res = await fn();
    } catch (e) {
      if (e instanceof Stale) return;
      err = e;
    }
    await loadControl();
    if (err) controlAlert(err);
    else controlNote(note ? note(res) : what);
  }

  async function loadControl() {
    if (!canBuild()) return;
    const gen = state.gen;
    const parts = await Promise.allSettled([
      api('/queue'),
      api('/builds?state=done,failed,cancelled&limit=10'),
      api('/workers'),
      $('start-profile').options.length === 0 ? api('/config/profiles') : Promise.resolve(null),
    ]);
    if (gen !== state.gen) return;
    // Without the profiles (a server with no dsynth.ini) the build takes
    // the service's own: no alert for that.
    if (parts[3].status === 'rejected' && $('start-profile').options.length === 0) {
      $('start-profile').replaceChildren(el('option', { value: '' }, "the service's"));
    }
    const failed = parts.slice(0, 3).find((p) => p.status === 'rejected' && !(p.reason instanceof Stale));
    if (failed) controlAlert(failed.reason);
    const [q, fin, wk, prof] = parts.map((p) => (p.status === 'fulfilled' ? p.value : null));
    if (q) renderQueue(q.builds || []);
    if (fin) renderFinished(fin.builds || []);
    if (wk) renderWorkers(wk.workers || []);
    if (prof) renderProfiles(prof);
    $('view-control').dataset.loaded = 'yes';
  }

  function scheduleControl() {
    if (!canBuild() || state.view !== 'control' || state.control.refreshTimer) return;
    state.control.refreshTimer = setTimeout(() => {
      state.control.refreshTimer = 0;
      if (state.open && state.view === 'control') loadControl();
    }, REFRESH_DELAY);
  }

  function shortID(id) {
    return typeof id === 'string' ? id.slice(0, 8) : '';
  }

  function portsText(b) {
    const p = b.packages || [];
    return p.length > 3 ? `${p.slice(0, 3).join(' ')} and ${p.length - 3} more` : p.join(' ');
  }

  function renderQueue(builds) {
    const queued = builds.filter((b) => b.state === 'queued');
    const rows = builds.map((b) => {
      const qi = queued.indexOf(b);
      const what = `build ${shortID(b.id)} (${portsText(b)})`;
      let actions;
      if (b.state === 'running') {
        actions = [el('button', { type: 'button', class: 'cancel', 'aria-label': 'Cancel ' + what, onclick: () => act(`Build ${shortID(b.id)} cancelled.`, () => api('/builds/' + encodeURIComponent(b.id), { method: 'DELETE' })) }, 'Cancel')];
      } else {
        actions = [
          el('button', { type: 'button', class: 'up', disabled: qi <= 0, 'aria-label': 'Move up ' + what, onclick: () => act(`Build ${shortID(b.id)} moved up.`, () => api('/queue/' + encodeURIComponent(b.id) + '/move', { method: 'POST', body: { position: qi - 1 } })) }, 'Up'),
          el('button', { type: 'button', class: 'down', disabled: qi < 0 || qi >= queued.length - 1, 'aria-label': 'Move down ' + what, onclick: () => act(`Build ${shortID(b.id)} moved down.`, () => api('/queue/' + encodeURIComponent(b.id) + '/move', { method: 'POST', body: { position: qi + 1 } })) }, 'Down'),
          el('button', { type: 'button', class: 'remove', 'aria-label': 'Remove ' + what, onclick: () => act(`Build ${shortID(b.id)} removed from the queue.`, () => api('/queue/' + encodeURIComponent(b.id), { method: 'DELETE' })) }, 'Remove'),
        ];
      }
      return el('tr', { data: { build: b.id, state: b.state } },
        el('td', {}, el('code', { title: b.id }, shortID(b.id))),
        el('td', {}, el('span', { class: statusClass(b.state === 'running' ? 'running' : 'other') }, b.state)),
        el('td', { class: 'detail' }, portsText(b), b.directive ? el('span', { class: 'pkg' }, ' · ' + b.directive) : null),
        el('td', {}, b.by || ''),
        el('td', {}, timeEl(b.submitted)),
        el('td', { class: 'actions' }, actions));
    });
    $('queue-rows').replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: 6 }, 'Nothing is queued or running.'))]));
  }

  function renderFinished(builds) {
    const rows = builds.map((b) => {
      const c = b.counts || {};
      const what = `build ${shortID(b.id)} (${portsText(b)})`;
      return el('tr', { data: { build: b.id, state: b.state } },
        el('td', {}, el('code', { title: b.id }, shortID(b.id))),
        el('td', {}, el('span', { class: statusClass(b.state === 'done' ? 'success' : b.state === 'failed' ? 'failed' : 'other') }, b.state)),
        el('td', { class: 'detail' }, portsText(b), b.error ? el('span', { class: 'error-text' }, ' ' + b.error) : null),
        el('td', { class: 'num' }, `${c.built || 0} / ${c.failed || 0} / ${c.skipped || 0}`),
        el('td', {}, timeEl(b.ended)),
        el('td', { class: 'actions' },
          el('button', { type: 'button', class: 'retry', 'aria-label': 'Retry the failed ports of ' + what, onclick: () => act(`The failed ports of build ${shortID(b.id)} are queued again.`, () => api('/builds/' + encodeURIComponent(b.id) + '/retry', { method: 'POST' })) }, 'Retry failed')));
    });
    $('finished-rows').replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: 6 }, 'No finished build.'))]));
  }

  function renderWorkers(workers) {
    const rows = workers.map((w) => {
      const name = 'worker ' + w.id + (w.where ? ' (' + w.where + ')' : '');
      return el('tr', { data: { worker: w.id, state: w.status, paused: w.paused ? 'yes' : 'no' } },
        el('td', {}, w.id),
        el('td', {}, w.where || 'local'),
        el('td', { class: 'wstate wstate-' + (w.status === 'busy' ? 'busy' : w.status === 'idle' ? 'idle' : 'other') }, w.status, w.paused ? ' (paused)' : ''),
        el('td', {}, w.current_package ? originLink(w.current_package) : '', w.current_package && w.record_id ? [' ', logLink(w.record_id, 'log of ' + w.current_package)] : null),
        el('td', {}, w.phase || ''),
        el('td', { class: 'actions' }, w.paused
          ? el('button', { type: 'button', class: 'resume', 'aria-label': 'Resume ' + name, onclick: () => act(`Worker ${w.id} resumed.`, () => api('/workers/' + w.id + '/resume', { method: 'POST' })) }, 'Resume')
          : el('button', { type: 'button', class: 'pause', 'aria-label': 'Pause ' + name, onclick: () => act(`Worker ${w.id} paused.`, () => api('/workers/' + w.id + '/pause', { method: 'POST' })) }, 'Pause')));
    });
    $('worker-rows').replaceChildren(...(rows.length > 0 ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: 6 }, 'No worker.'))]));
  }

  function renderProfiles(d) {
    const sel = $('start-profile');
    sel.replaceChildren(...(d.profiles || []).map((p) => el('option', { value: p.name, selected: p.name === d.active }, p.name + (p.active ? ' (active)' : ''))));
  }

  function renderChosen() {
    $('start-ports').replaceChildren(...state.control.ports.map((o) => el('li', { class: 'chip', data: { origin: o } },
      el('span', {}, o),
      el('button', { type: 'button', class: 'small', 'aria-label': 'Remove ' + o + ' from the build', onclick: () => {
        state.control.ports = state.control.ports.filter((x) => x !== o);
        renderChosen();
        $('start-port').focus();
      } }, '×'))));
  }

  function addPort() {
    const input = $('start-port');
    for (const o of input.value.split(/[\s,]+/).filter(Boolean)) {
      if (!state.control.ports.includes(o)) state.control.ports.push(o);
    }
    input.value = '';
    renderChosen();
  }

  // complete fills the datalist with the ports whose origin starts with
  // what is typed (GET /packages?origin=prefix).
  function complete(input) {
    clearTimeout(state.control.completeTimer);
    state.control.completeTimer = setTimeout(async () => {
      const prefix = input.value.trim();
      if (prefix.length < 2) return;
      const seq = ++state.control.completeSeq;
      try {
        const d = await api('/packages?' + new URLSearchParams({ origin: prefix, limit: '20' }).toString());
        if (seq !== state.control.completeSeq) return;
        $('port-options').replaceChildren(...(d.packages || []).map((p) => el('option', { value: p.origin }, p.version ? p.origin + ' ' + p.version : p.origin)));
        $('port-options').dataset.error = '';
      } catch (e) {
        // Completion is a convenience (the start button reports errors);
        // why it has nothing is kept for whoever looks.
        $('port-options').dataset.error = e && e.message ? e.message : String(e);
      }
    }, 150);
  }

  function startBuild(ev) {
    ev.preventDefault();
    addPort();
    if (state.control.ports.length === 0) {
      controlAlert(new APIError(0, '', 'Choose at least one port (category/port).'));
      return;
    }
    const body = { packages: state.control.ports.slice(), directive: $('start-directive').value };
    if ($('start-profile').value) body.profile = $('start-profile').value;
    act('Build queued.', async () => {
      const d = await api('/builds', { method: 'POST', body });
      state.control.ports = [];
      renderChosen();
      return d;
    }, (d) => `Build ${shortID(d.build_id)} queued: ${d.queued_packages} ports, position ${d.position}.`);
  }

  // ---- logs -----------------------------------------------------------------------

  const LOG_MAX_MATCHES = 5000;

  function closeLog() {
    if (state.log && state.log.ctrl) state.log.ctrl.abort();
    if (state.log && state.log.url) URL.revokeObjectURL(state.log.url);
    state.log = null;
  }

  async function rawGet(path, signal) {
    let resp;
    try {
      resp = await fetch(API + path, { headers: headers('text/plain'), cache: 'no-store', credentials: 'omit', signal });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new APIError(0, 'NETWORK', `cannot reach the API (${e.message})`);
    }
    if (!resp.ok) throw await errorOf(resp);
    return resp;
  }

  // openLogView shows the log of record id: its text, then, while the
  // port builds, the lines of its stream as they come.
  async function openLogView(id) {
    if (state.log && state.log.id === id) return;
    closeLog();
    showPanelError('logs', null);
    $('log-record').value = id;
    $('log-panel').hidden = !id;
    $('view-logs').dataset.record = id;
    $('view-logs').dataset.state = id ? 'loading' : 'none';
    if (!id) return;
    const lg = { id, lines: [], partial: '', ctrl: new AbortController(), running: false, url: '', origin: '' };
    state.log = lg;
    $('log-text').replaceChildren();
    $('log-about').replaceChildren();
    $('log-download').hidden = true;
    $('log-state').textContent = 'Loading…';
    const live = () => state.log === lg && !lg.ctrl.signal.aborted;
    // The record, when there is one yet (a port in progress has none).
    api('/records/' + encodeURIComponent(id)).then((d) => {
      if (!live()) return;
      const r = (d && d.record) || d || {};
      lg.origin = originOf(r);
      $('log-download').download = logFileName(lg);
      $('logs-title').textContent = 'Log of ' + (lg.origin || id);
      $('log-about').replaceChildren(
        el('dt', {}, 'Port'), el('dd', { data: { field: 'log-origin' } }, lg.origin ? originLink(lg.origin) : '—'),
        el('dt', {}, 'Status'), el('dd', { data: { field: 'log-status' } }, r.status || '—'),
        el('dt', {}, 'Started'), el('dd', {}, timeEl(r.start_time)));
    }).catch(() => {
      if (!live()) return;
      $('logs-title').textContent = 'Log of ' + id;
      $('log-about').replaceChildren(el('dt', {}, 'Build'), el('dd', {}, id), el('dt', {}, 'Status'), el('dd', { data: { field: 'log-status' } }, 'building (no record yet)'));
    });
    try {
      const resp = await rawGet('/logs/' + encodeURIComponent(id), lg.ctrl.signal);
      lg.running = resp.headers.get('X-Build-Running') === 'true';
      const text = await resp.text();
      if (!live()) return;
      setLogText(lg, text);
      if (!lg.running) {
        logDone(lg, 'The build has ended.');
        return;
      }
      $('log-state').textContent = 'The port is building: following its log…';
      $('view-logs').dataset.state = 'following';
      await followLog(lg);
    } catch (e) {
      if (!live() || (e && e.name === 'AbortError') || e instanceof Stale) return;
      if (isAuth(e) && e.status === 401) {
        authFailed(e);
        return;
      }
      $('log-state').textContent = '';
      $('view-logs').dataset.state = 'error';
      showPanelError('logs', e);
    }
  }

  function logDone(lg, text) {
    $('log-state').textContent = text;
    $('view-logs').dataset.state = 'done';
    lg.running = false;
    updateDownload(lg);
  }

  // followLog reads the log's event stream: it sends the log from its
  // start, then each new line, then log.end. The text shown so far is
  // replaced by the stream's lines at its first line.
  async function followLog(lg) {
    const live = () => state.log === lg && !lg.ctrl.signal.aborted;
    const resp = await rawGet('/logs/' + encodeURIComponent(lg.id) + '/stream', lg.ctrl.signal);
    let first = true;
    let ended = null;
    const parse = sseParser((type, data) => {
      let m = {};
      try {
        m = JSON.parse(data);
      } catch (_) {
        return;
      }
      if (type === 'log.line' && typeof m.line === 'string') {
        if (first) {
          first = false;
          lg.lines = [];
          lg.partial = '';
          $('log-text').replaceChildren();
        }
        appendLines(lg, [m.line]);
      } else if (type === 'log.end') {
        ended = m;
      }
    });
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !live()) break;
      parse(value);
      if (ended) break;
    }
    if (!live()) return;
    reader.cancel().catch(() => {});
    logDone(lg, ended ? `The build has ended: ${ended.status || 'done'}.` : 'The log stream ended.');
  }

  function setLogText(lg, text) {
    const parts = text.split('\n');
    if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
    lg.lines = [];
    $('log-text').replaceChildren();
    appendLines(lg, parts);
    updateDownload(lg);
  }

  // appendLines adds lines to the log shown, with the search's matches
  // marked, and keeps the end in view when following.
  function appendLines(lg, lines) {
    const pre = $('log-text');
    const q = $('log-query').value;
    lg.lines.push(...lines);
    pre.append(...highlighted(lines.join('\n') + '\n', q));
    $('view-logs').dataset.lines = String(lg.lines.length);
    if (q) countMatches();
    if ($('log-follow').checked && lg.running) pre.scrollTop = pre.scrollHeight;
  }

  // highlighted is text as text nodes, each match of q (any case) wrapped
  // in <mark>: nothing is parsed as markup.
  function highlighted(text, q) {
    if (!q) return [document.createTextNode(text)];
    const out = [];
    const low = text.toLowerCase();
    const ql = q.toLowerCase();
    let at = 0;
    for (;;) {
      const i = low.indexOf(ql, at);
      if (i < 0) break;
      if (i > at) out.push(document.createTextNode(text.slice(at, i)));
      out.push(el('mark', {}, text.slice(i, i + q.length)));
      at = i + q.length;
    }
    if (at < text.length) out.push(document.createTextNode(text.slice(at)));
    return out;
  }

  function countMatches() {
    const n = document.querySelectorAll('#log-text mark').length;
    $('log-matches').textContent = $('log-query').value ? `${n} match${n === 1 ? '' : 'es'}` : '';
    $('log-prev').disabled = n === 0;
    $('log-next').disabled = n === 0;
    return n;
  }

  function searchLog(ev) {
    if (ev) ev.preventDefault();
    const lg = state.log;
    if (!lg) return;
    const q = $('log-query').value;
    $('log-text').replaceChildren(...highlighted(lg.lines.length > 0 ? lg.lines.join('\n') + '\n' : '', q));
    lg.current = -1;
    if (countMatches() > 0) stepMatch(1);
  }

  function stepMatch(dir) {
    const lg = state.log;
    const marks = [...document.querySelectorAll('#log-text mark')].slice(0, LOG_MAX_MATCHES);
    if (!lg || marks.length === 0) return;
    for (const m of marks) m.classList.remove('current');
    lg.current = ((lg.current === undefined ? -1 : lg.current) + dir + marks.length) % marks.length;
    const m = marks[lg.current];
    m.classList.add('current');
    m.scrollIntoView({ block: 'center' });
    $('log-matches').textContent = `${lg.current + 1} of ${marks.length}`;
  }

  // logFileName is the download's name: the log file's own
  // (category___port.log), or the record id's before the record is read.
  function logFileName(lg) {
    return (lg.origin ? lg.origin.replace(/[^\w.@-]+/g, '___') : lg.id) + '.log';
  }

  function updateDownload(lg) {
    if (lg.url) URL.revokeObjectURL(lg.url);
    lg.url = URL.createObjectURL(new Blob([lg.lines.join('\n') + (lg.lines.length > 0 ? '\n' : '')], { type: 'text/plain' }));
    const a = $('log-download');
    a.href = lg.url;
    a.download = logFileName(lg);
    a.hidden = false;
  }

  // ---- the kit for the other view files ---------------------------------------

  let viewKitLoading = null;

  // loadViewKit loads viewkit.js, the helpers the view files share, once
  // (the view files arrive in no set order, each asks for it).
  function loadViewKit() {
    if (window.dsynthViewKit) return Promise.resolve(window.dsynthViewKit);
    if (!viewKitLoading) {
      viewKitLoading = new Promise((resolve, reject) => {
        const s = el('script', { src: 'viewkit.js' });
        s.addEventListener('load', () => (window.dsynthViewKit ? resolve(window.dsynthViewKit) : reject(new Error('viewkit.js defined nothing'))));
        s.addEventListener('error', () => reject(new Error('viewkit.js did not load')));
        document.head.append(s);
      });
    }
    return viewKitLoading;
  }

  // viewMounter makes a view file's mount and unmount (see the kit above):
  // a mount whose viewkit.js arrives after a later mount or an unmount is
  // dropped.
  function viewMounter(start, stop) {
    let mounts = 0;
    return {
      mount(host, api, params) {
        stop();
        const token = ++mounts;
        return loadViewKit().then((k) => (token === mounts ? start(k, host, api, params) : undefined));
      },
      unmount() {
        mounts++;
        stop();
      },
    };
  }

  window.dsynthViews = window.dsynthViews || {};
  window.dsynthKit = Object.freeze({
    viewKit: loadViewKit,
    viewMounter,
    api: kitAPI,
    el,
    fmtDuration: goDuration,
    fmtTime: (t) => {
      const d = t instanceof Date ? t : parseTime(t);
      return d && !Number.isNaN(d.getTime()) ? fmtTime(d) : '—';
    },
    onEvent: (fn) => {
      state.listeners.add(fn);
      return () => state.listeners.delete(fn);
    },
    openLog: (id) => go('logs', { record: id }),
    openGraph: (origin) => go('graph', { origin }),
    openTimeline: (run) => go('timeline', { run: run && run !== 'current' ? run : '' }),
    openPort: (origin) => go('overview', { port: origin }),
  });

  // ---- wiring ---------------------------------------------------------------

  function onHashChange() {
    const { key, loginError, port } = takeFragment();
    if (loginError) {
      dropKey();
      showPrompt(`The login failed: ${loginError}.`);
      return;
    }
    if (key) {
      state.port = port;
      useKey(key);
      return;
    }
    const { view, params } = readRoute();
    showView(view, params, true);
    if (view !== 'overview' || port === state.port) return;
    state.port = port;
    $('history-body').replaceChildren();
    showPanelError('history', null);
    if (state.open) {
      load('history', loadHistory);
      if (port) $('history').scrollIntoView({ block: 'nearest' });
    }
  }

  function init() {
    $('key-hint').textContent = location.origin + location.pathname + '#key=YOUR_KEY';
    $('key-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const key = $('key-input').value.trim();
      if (!/^[\x21-\x7e]+$/.test(key)) {
        showPrompt('An API key or a token is printable ASCII without blanks.');
        return;
      }
      useKey(key);
    });
    $('forget').addEventListener('click', () => {
      dropKey();
      showPrompt('');
    });
    $('filter-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      state.filter = { status: $('f-status').value, origin: $('f-origin').value.trim() };
      state.pages = [''];
      load('builds', loadBuilds);
    });
    $('f-reset').addEventListener('click', () => {
      $('f-status').value = '';
      $('f-origin').value = '';
      state.filter = { status: '', origin: '' };
      state.pages = [''];
      load('builds', loadBuilds);
    });
    $('older').addEventListener('click', () => {
      if (!state.next) return;
      state.pages.push(state.next);
      load('builds', loadBuilds);
    });
    $('newer').addEventListener('click', () => {
      if (state.pages.length > 1) state.pages.pop();
      load('builds', loadBuilds);
    });
    $('newest').addEventListener('click', () => {
      state.pages = [''];
      load('builds', loadBuilds);
    });
    $('history-close').addEventListener('click', () => {
      location.hash = '';
    });
    // The skip link moves the focus to the view shown (its href, a
    // fragment, would change the view).
    $('skip').addEventListener('click', (ev) => {
      ev.preventDefault();
      const h = document.querySelector(`#view-${state.view} .view-title`);
      if (h) h.focus();
    });
    $('start-form').addEventListener('submit', startBuild);
    $('start-add').addEventListener('click', () => {
      addPort();
      $('start-port').focus();
    });
    $('start-port').addEventListener('input', () => complete($('start-port')));
    $('start-port').addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && $('start-port').value.trim()) {
        ev.preventDefault();
        addPort();
      }
    });
    $('graph-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      go('graph', { origin: $('graph-origin').value.trim() });
    });
    $('graph-origin').addEventListener('input', () => complete($('graph-origin')));
    $('log-open').addEventListener('submit', (ev) => {
      ev.preventDefault();
      go('logs', { record: $('log-record').value.trim() });
    });
    $('log-search').addEventListener('submit', searchLog);
    $('log-next').addEventListener('click', () => stepMatch(1));
    $('log-prev').addEventListener('click', () => stepMatch(-1));
    $('log-follow').addEventListener('change', () => {
      const pre = $('log-text');
      if ($('log-follow').checked) pre.scrollTop = pre.scrollHeight;
    });
    window.addEventListener('hashchange', onHashChange);

    offerLogin();
    loadViewFiles();
    const { key, loginError, port } = takeFragment();
    state.port = port;
    if (loginError) {
      showPrompt(`The login failed: ${loginError}.`);
      return;
    }
    let k = key;
    if (!k) {
      try {
        k = sessionStorage.getItem(KEY_STORE) || '';
      } catch (_) {
        k = '';
      }
    }
    if (k) {
      useKey(k);
      return;
    }
    // Without a key: read anyway when the API allows anonymous reading.
    fetch(API + '/status', { headers: headers('application/json'), cache: 'no-store', credentials: 'omit' })
      .then((resp) => (resp.ok && !state.open ? useKey('') : !state.open && showPrompt('')))
      .catch(() => !state.open && showPrompt(''));
  }

  init();
})();
