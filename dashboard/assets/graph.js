// go-dsynth dashboard: a port's dependency graph (window.dsynthViews.graph).
//
// The server lays the closure out (GET /api/v1/packages/{c}/{p}/graph:
// layers, node positions, edges with their dependency kinds); this view
// draws it as SVG — one path per edge, one group per node, built in a
// DocumentFragment — coloured by each port's state, with the edge's kind
// in its stroke. A click (or Enter) on a node focuses it: its closure is
// highlighted and a panel tells where the port stands, why it would be
// rebuilt and what it waits on (GET …/status); from there the graph can
// be re-rooted at the port or its subtree collapsed (collapse=). Zoom with
// the buttons, pan by scrolling or dragging.
'use strict';

(() => {
  let K; // window.dsynthViewKit, once loaded
  let el;
  let svg;

  // needKit is viewkit.js, the helpers the views share (the page loads it
  // once for all of them).
  const needKit = () => window.dsynthKit.viewKit();

  const NODE_W = 180;
  const NODE_H = 24;
  const MARGIN = 20;
  const LABEL_CHARS = 26;
  const ZOOMS = [0.25, 0.35, 0.5, 0.7, 0.85, 1, 1.25, 1.5, 2];
  // Dependency kinds, strongest first: an edge of several kinds is drawn
  // as its first in this list.
  const KINDS = ['lib', 'build', 'run', 'patch', 'extract', 'fetch'];

  const kindOf = (kinds) => {
    for (const k of KINDS) if ((kinds || []).includes(k)) return k;
    return 'other';
  };
  const stateClass = (s) => (/^[a-z_]+$/.test(s || '') ? s : 'unknown');

  let view = null;

  // begin takes the view kit and starts the view.
  function begin(k, host, api, params) {
    K = k;
    el = k.el;
    svg = k.svg;
    return start(host, api, params);
  }

  function start(host, api, params) {
    const v = { host, api, origin: '', collapse: new Set(), data: null, gen: 0, zoom: 1, focus: -1, timing: null };
    view = v;
    const zoomOut = el('button', { type: 'button', id: 'gr-zoom-out', 'aria-label': 'Zoom out' }, '−');
    const zoomIn = el('button', { type: 'button', id: 'gr-zoom-in', 'aria-label': 'Zoom in' }, '+');
    const fit = el('button', { type: 'button', id: 'gr-fit' }, 'Fit width');
    zoomOut.addEventListener('click', () => setZoom(v, stepZoom(v.zoom, -1)));
    zoomIn.addEventListener('click', () => setZoom(v, stepZoom(v.zoom, 1)));
    fit.addEventListener('click', () => fitWidth(v));
    v.zoomLabel = el('span', { class: 'gr-zoom', id: 'gr-zoom' }, '100%');
    v.summary = el('p', { class: 'gr-summary', id: 'gr-summary', 'aria-live': 'polite' });
    v.error = el('p', { class: 'error', role: 'alert', hidden: true });
    v.canvas = el('div', { class: 'gr-canvas', id: 'gr-canvas', tabindex: 0, role: 'region', 'aria-label': 'Dependency graph, scrollable' });
    v.panel = el('aside', { class: 'gr-panel', id: 'gr-panel', hidden: true, 'aria-live': 'polite' });
    host.replaceChildren(
      el('div', { class: 'view-tools' }, zoomOut, v.zoomLabel, zoomIn, fit),
      v.summary, v.error, legend(), el('div', { class: 'gr-wrap' }, v.canvas, v.panel));
    v.stopPan = dragToPan(v.canvas);
    const origin = params && typeof params.origin === 'string' ? params.origin.trim() : '';
    if (origin) return show(origin);
    v.summary.textContent = 'Choose a port to see its dependency graph.';
    return Promise.resolve();
  }

  // stop tears the view down (nothing when it is not shown).
  function stop() {
    if (!view) return;
    view.gen++;
    if (view.stopPan) view.stopPan();
    view.host.replaceChildren();
    view = null;
  }

  // show draws origin's graph (re-rooting, collapsing and expanding come
  // through here).
  function show(origin, keepCollapse) {
    const v = view;
    if (!v) return Promise.resolve();
    if (origin !== v.origin && !keepCollapse) v.collapse = new Set();
    v.origin = origin;
    return load(v);
  }

  function legend() {
    const kinds = KINDS.map((k) => el('li', {},
      svg('svg', { width: 34, height: 10, 'aria-hidden': 'true', focusable: 'false' },
        svg('path', { class: 'ge ek-' + k, d: 'M1,5H33' })), ' ' + k));
    const states = ['built', 'failed', 'building', 'queued', 'not_built', 'up_to_date', 'ignored', 'skipped', 'broken'].map((s) => el('li', {},
      svg('svg', { width: 14, height: 14, 'aria-hidden': 'true', focusable: 'false' },
        svg('rect', { class: 'gn-box st-' + s, x: 1, y: 1, width: 12, height: 12 })), ' ' + s.replace(/_/g, ' ')));
    return el('div', { class: 'gr-legend' },
      el('ul', { class: 'view-legend', 'aria-label': 'Dependency kinds' }, kinds),
      el('ul', { class: 'view-legend', 'aria-label': 'Port states' }, states));
  }

  async function load(v) {
    const gen = ++v.gen;
    v.error.hidden = true;
    v.panel.hidden = true;
    v.focus = -1;
    const path = K.originPath(v.origin);
    if (!path) {
      v.error.textContent = `"${v.origin}" is not an origin (category/port or category/port@flavor)`;
      v.error.hidden = false;
      return;
    }
    const q = new URLSearchParams();
    for (const c of v.collapse) q.append('collapse', c);
    const t0 = performance.now();
    let d;
    try {
      d = await v.api(path + '/graph' + (q.toString() ? '?' + q : ''));
    } catch (e) {
      if (gen !== v.gen || view !== v) return;
      v.error.textContent = 'Cannot load the graph: ' + K.message(e);
      v.error.hidden = false;
      v.canvas.replaceChildren();
      v.summary.textContent = '';
      return;
    }
    if (gen !== v.gen || view !== v) return;
    const t1 = performance.now();
    v.data = d;
    draw(v);
    // Reading the layout makes the browser lay the drawing out now.
    v.canvas.getBoundingClientRect();
    const t2 = performance.now();
    v.timing = { fetch: t1 - t0, draw: t2 - t1, total: t2 - t0 };
    v.canvas.dataset.fetchMs = (t1 - t0).toFixed(1);
    v.canvas.dataset.drawMs = (t2 - t1).toFixed(1);
    // The first frame with the drawing.
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    if (gen !== v.gen) return;
    v.canvas.dataset.paintMs = (performance.now() - t0).toFixed(1);
    v.canvas.dataset.drawn = String(gen);
  }

  function draw(v) {
    const d = v.data;
    const nodes = d.nodes || [];
    const edges = d.edges || [];
    const W = (d.width || 0) + 2 * MARGIN;
    const H = (d.height || 0) + 2 * MARGIN;
    v.byId = new Map(nodes.map((n) => [n.id, n]));
    v.out = new Map(); // id → [edge index] of its dependencies
    edges.forEach((e, i) => {
      if (!v.out.has(e.from)) v.out.set(e.from, []);
      v.out.get(e.from).push(i);
    });

    const frag = document.createDocumentFragment();
    const edgeLayer = svg('g', { class: 'ge-layer' });
    v.edgeEls = edges.map((e) => {
      const a = v.byId.get(e.from);
      const b = v.byId.get(e.to);
      if (!a || !b) return null;
      const x1 = a.x + MARGIN + NODE_W / 2;
      const y1 = a.y + MARGIN + NODE_H;
      const x2 = b.x + MARGIN + NODE_W / 2;
      const y2 = b.y + MARGIN;
      const my = (y1 + y2) / 2;
      const p = svg('path', { class: 'ge ek-' + kindOf(e.kinds), d: `M${x1},${y1}C${x1},${my} ${x2},${my} ${x2},${y2}` });
      edgeLayer.appendChild(p);
      return p;
    });
    frag.appendChild(edgeLayer);
    const nodeLayer = svg('g', { class: 'gn-layer' });
    v.nodeEls = new Map();
    for (const n of nodes) {
      const origin = String(n.origin || '');
      const x = n.x + MARGIN;
      const y = n.y + MARGIN;
      const label = origin.length > LABEL_CHARS ? origin.slice(0, LABEL_CHARS - 1) + '…' : origin;
      const desc = `${origin}: ${String(n.state || 'unknown').replace(/_/g, ' ')}, ${n.deps || 0} dependencies` +
        (n.hidden ? `, ${n.hidden} hidden below` : '');
      const g = svg('g', {
        class: 'gn st-' + stateClass(n.state) + (n.id === 0 || n.origin === d.root ? ' root' : '') + (n.hidden ? ' collapsed' : ''),
        tabindex: 0, role: 'button', 'aria-label': desc, data: { id: n.id, origin },
      }, svg('title', {}, desc),
      svg('rect', { class: 'gn-box st-' + stateClass(n.state), x, y, width: NODE_W, height: NODE_H, rx: 4 }),
      svg('text', { class: 'gn-label', x: x + 6, y: y + 16 }, label));
      if (n.hidden) g.appendChild(svg('text', { class: 'gn-hidden', x: x + NODE_W - 4, y: y + 16, 'text-anchor': 'end' }, '+' + n.hidden));
      nodeLayer.appendChild(g);
      v.nodeEls.set(n.id, g);
    }
    frag.appendChild(nodeLayer);
    nodeLayer.addEventListener('click', (ev) => {
      const g = ev.target.closest('g.gn');
      if (g) focusNode(v, Number(g.dataset.id));
    });
    nodeLayer.addEventListener('keydown', (ev) => {
      const g = ev.target.closest('g.gn');
      if (g && (ev.key === 'Enter' || ev.key === ' ')) {
        ev.preventDefault();
        focusNode(v, Number(g.dataset.id));
      }
    });

    const root = svg('svg', {
      // A dense graph fades its edges until a port is focused.
      class: 'gr-svg' + (edges.length > 1500 ? ' dense' : ''), id: 'gr-svg', viewBox: `0 0 ${W} ${H}`, width: Math.round(W * v.zoom), height: Math.round(H * v.zoom),
      role: 'group', 'aria-labelledby': 'gr-svg-title',
    }, svg('title', { id: 'gr-svg-title' }, `Dependency graph of ${d.root || v.origin}: ${nodes.length} ports in ${d.layers || 0} layers`));
    root.appendChild(frag);
    v.svg = root;
    v.W = W;
    v.H = H;
    v.canvas.replaceChildren(root);
    // A graph wider than the canvas opens with its root in view.
    const top = nodes.find((n) => n.origin === d.root) || nodes[0];
    if (top) {
      v.canvas.scrollLeft = Math.max(0, (top.x + MARGIN + NODE_W / 2) * v.zoom - v.canvas.clientWidth / 2);
      v.canvas.scrollTop = 0;
    }
    const hidden = nodes.reduce((s, n) => s + (n.hidden || 0), 0);
    v.summary.textContent = `${d.root || v.origin}: ${nodes.length} ports, ${edges.length} dependencies, ${d.layers || 0} layers` +
      (hidden ? `, ${hidden} hidden by collapse` : '') + '. Click a port to focus it.';
  }

  function stepZoom(z, dir) {
    let i = ZOOMS.findIndex((x) => x >= z - 1e-9);
    if (i < 0) i = ZOOMS.length - 1;
    if (ZOOMS[i] > z + 1e-9 && dir > 0) return ZOOMS[i];
    return ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, i + dir))];
  }

  function setZoom(v, z) {
    v.zoom = z;
    v.zoomLabel.textContent = Math.round(z * 100) + '%';
    if (v.svg) {
      v.svg.setAttribute('width', String(Math.round(v.W * z)));
      v.svg.setAttribute('height', String(Math.round(v.H * z)));
    }
  }

  function fitWidth(v) {
    if (!v.W) return;
    setZoom(v, Math.max(0.1, Math.min(2, (v.canvas.clientWidth - 4) / v.W)));
  }

  // dragToPan scrolls the canvas while the mouse drags it; it returns the
  // function that stops listening to the window.
  function dragToPan(canvas) {
    let from = null;
    canvas.addEventListener('mousedown', (ev) => {
      if (ev.button !== 0 || ev.target.closest('g.gn')) return;
      from = { x: ev.clientX, y: ev.clientY, left: canvas.scrollLeft, top: canvas.scrollTop };
      canvas.classList.add('panning');
    });
    const move = (ev) => {
      if (!from) return;
      canvas.scrollLeft = from.left - (ev.clientX - from.x);
      canvas.scrollTop = from.top - (ev.clientY - from.y);
    };
    const up = () => {
      from = null;
      canvas.classList.remove('panning');
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    return () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
  }

  // closure is the set of node ids reachable from id, and the edges used.
  function closure(v, id) {
    const seen = new Set([id]);
    const used = new Set();
    const stack = [id];
    while (stack.length) {
      const n = stack.pop();
      for (const i of v.out.get(n) || []) {
        used.add(i);
        const to = v.data.edges[i].to;
        if (!seen.has(to)) {
          seen.add(to);
          stack.push(to);
        }
      }
    }
    return { nodes: seen, edges: used };
  }

  function focusNode(v, id) {
    const n = v.byId.get(id);
    if (!n) return;
    for (const g of v.nodeEls.values()) g.classList.remove('hl', 'focused');
    for (const p of v.edgeEls) if (p) p.classList.remove('hl');
    if (v.focus === id) {
      // A second click clears the focus.
      v.focus = -1;
      v.svg.classList.remove('focusing');
      v.panel.hidden = true;
      return;
    }
    v.focus = id;
    const c = closure(v, id);
    for (const nid of c.nodes) v.nodeEls.get(nid)?.classList.add('hl');
    for (const i of c.edges) v.edgeEls[i]?.classList.add('hl');
    v.nodeEls.get(id).classList.add('focused');
    v.svg.classList.add('focusing');
    panel(v, n, c.nodes.size - 1);
  }

  function panel(v, n, closureSize) {
    const origin = String(n.origin || '');
    const collapsed = v.collapse.has(origin);
    const reroot = el('button', { type: 'button', id: 'gr-reroot' }, 'Graph of this port');
    reroot.addEventListener('click', () => {
      const k = window.dsynthKit;
      if (k && typeof k.openGraph === 'function') k.openGraph(origin);
      else show(origin);
    });
    const fold = el('button', { type: 'button', id: 'gr-collapse' }, collapsed ? 'Expand its subtree' : 'Collapse its subtree');
    fold.addEventListener('click', () => {
      if (collapsed) v.collapse.delete(origin);
      else v.collapse.add(origin);
      show(v.origin, true);
    });
    const close = el('button', { type: 'button', class: 'small', id: 'gr-panel-close' }, 'Close');
    close.addEventListener('click', () => focusNode(v, n.id));
    const why = el('div', { id: 'gr-why' }, el('p', { class: 'none' }, 'Asking where it stands…'));
    v.panel.replaceChildren(
      el('h3', { id: 'gr-panel-origin' }, origin),
      el('dl', { class: 'fields' },
        el('dt', {}, 'State'), el('dd', {}, String(n.state || 'unknown').replace(/_/g, ' ')),
        el('dt', {}, 'Direct dependencies'), el('dd', {}, String(n.deps || 0)),
        el('dt', {}, 'In its closure here'), el('dd', { id: 'gr-closure' }, String(closureSize)),
        n.hidden ? [el('dt', {}, 'Hidden below'), el('dd', {}, String(n.hidden))] : null),
      el('div', { class: 'view-tools' }, origin !== v.origin ? reroot : null, (n.deps || n.hidden || collapsed) ? fold : null, close),
      why);
    v.panel.hidden = false;
    whyPanel(v.api, origin, why, () => view === v && v.panel.contains(why));
  }

  // whyPanel fills box with where origin stands: why it would be rebuilt
  // and, when queued, the dependencies it waits on (the "why is this port
  // waiting / rebuilding" question). alive tells whether box still shows.
  async function whyPanel(api, origin, box, alive) {
    const path = K.originPath(origin);
    let st;
    try {
      st = await api(path + '/status');
    } catch (e) {
      if (alive()) box.replaceChildren(el('p', { class: 'error' }, 'Cannot read its status: ' + K.message(e)));
      return;
    }
    if (!alive()) return;
    const parts = [el('h4', {}, 'Where it stands'),
      el('p', { id: 'why-state', data: { state: st.state || '' } }, String(st.state || 'unknown').replace(/_/g, ' '))];
    if (st.building) {
      parts.push(el('p', { id: 'why-building' }, `Building on worker ${st.building.worker}` + (st.building.phase ? `, phase ${st.building.phase}` : '')));
    }
    const waiting = Array.isArray(st.waiting_on) ? st.waiting_on : [];
    if (st.state === 'queued' || waiting.length) {
      parts.push(el('h4', {}, 'Waiting on'));
      parts.push(waiting.length
        ? el('ul', { id: 'why-waiting' }, waiting.map((o) => {
          const b = el('button', { type: 'button', class: 'link' }, String(o));
          b.addEventListener('click', () => focusOrigin(String(o)));
          return el('li', {}, b);
        }))
        : el('p', { id: 'why-waiting', class: 'none' }, 'Nothing: it is ready to build.'));
    }
    const rb = st.rebuild;
    parts.push(el('h4', {}, 'Would a build rebuild it?'));
    if (rb) {
      parts.push(el('p', { id: 'why-rebuild', data: { needed: String(!!rb.needed) } },
        rb.needed ? 'Yes: ' + String(rb.reason || rb.disposition || '') : 'No' + (rb.reason ? ': ' + String(rb.reason) : ': its package is up to date.')));
    } else {
      parts.push(el('p', { id: 'why-rebuild', class: 'none' }, 'Not known: the scan cache does not have the port.'));
    }
    box.replaceChildren(...parts);
  }

  // focusOrigin focuses a node by origin when the graph shows it, else
  // opens that port's graph.
  function focusOrigin(origin) {
    const v = view;
    const n = v && v.data ? (v.data.nodes || []).find((x) => x.origin === origin) : null;
    if (!n) {
      // Not on the graph shown (or none): that port's own graph.
      const k = window.dsynthKit;
      if (k && typeof k.openGraph === 'function') k.openGraph(origin);
      return;
    }
    if (v.focus !== n.id) focusNode(v, n.id);
    const g = v.nodeEls.get(n.id);
    g.focus();
    g.scrollIntoView({ block: 'center', inline: 'center' });
  }

  // why is whyPanel for other parts of the page (the graph need not be
  // mounted).
  const why = (api, origin, box, alive) => needKit().then((k) => {
    K = k;
    el = k.el;
    svg = k.svg;
    return whyPanel(api, origin, box, alive || (() => true));
  });

  window.dsynthViews = window.dsynthViews || {};
  const { mount, unmount } = window.dsynthKit.viewMounter(begin, stop);
  window.dsynthViews.graph = { mount, unmount, show, why };
})();
