// go-dsynth report page: reads summary.json and the NN_history.json files
// next to it, and refreshes while the build is active.
(function () {
  "use strict";

  var REFRESH_MS = 10000; // summary.json changes at most every 10 s
  var RETRY_MS = 2000;    // summary.json may not exist yet

  var histories = [];     // histories[n-1] = entries of NN_history.json
  var filter = { result: "", text: "" };

  function $(id) { return document.getElementById(id); }

  function setText(id, v) {
    var el = $(id);
    if (el) { el.textContent = (v === undefined || v === null) ? "" : String(v); }
  }

  function getJSON(url) {
    return fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  function renderSummary(s) {
    var st = s.stats || {};
    setText("profile", s.profile);
    setText("kickoff", (s.kickoff || "").trim());
    var state = $("state");
    state.textContent = s.active ? "building" : "finished";
    state.className = "state" + (s.active ? " active" : "");
    ["queued", "built", "failed", "ignored", "skipped", "remains", "meta",
     "pkghour", "impulse"].forEach(function (k) { setText("stat-" + k, st[k]); });
    setText("stat-elapsed", (st.elapsed || "").trim());
    setText("stat-swapinfo", (st.swapinfo || "").trim());
    setText("stat-load", (st.load || "").trim());

    var total = st.queued || 0;
    var done = (st.built || 0) + (st.failed || 0) + (st.ignored || 0) + (st.skipped || 0);
    ["built", "failed", "ignored", "skipped"].forEach(function (k) {
      var w = total > 0 ? (100 * (st[k] || 0) / total) : 0;
      $("bar-" + k).style.width = w.toFixed(2) + "%";
    });
    setText("percent", total > 0 ? Math.floor(100 * done / total) : (s.active ? 0 : 100));

    var body = $("builders");
    body.textContent = "";
    (s.builders || []).forEach(function (b) {
      var tr = document.createElement("tr");
      var idle = !b.origin;
      tr.className = "builder" + (idle ? " idle" : "");
      tr.setAttribute("data-id", b.ID);
      cell(tr, b.ID);
      cell(tr, (b.elapsed || "").trim());
      cell(tr, b.phase);
      cell(tr, b.origin);
      cell(tr, b.lines, "num");
      body.appendChild(tr);
    });
  }

  // loadHistories fetches the history files that may have changed: the
  // last one already read (it grows in place) and every newer one.
  function loadHistories(kfiles) {
    var first = Math.max(1, histories.length);
    var jobs = [];
    for (var n = first; n <= kfiles; n++) {
      jobs.push((function (n) {
        return getJSON(pad2(n) + "_history.json")
          .then(function (list) { histories[n - 1] = list; })
          .catch(function () { /* being rotated or not written yet */ });
      })(n));
    }
    return Promise.all(jobs);
  }

  function renderHistory() {
    var all = [];
    histories.forEach(function (list) { if (list) { all = all.concat(list); } });
    all.sort(function (a, b) { return b.entry - a.entry; });
    setText("history-count", all.length);
    var body = $("history");
    body.textContent = "";
    var frag = document.createDocumentFragment();
    all.forEach(function (h) {
      if (filter.result && h.result !== filter.result) { return; }
      if (filter.text && String(h.origin).indexOf(filter.text) < 0) { return; }
      var tr = document.createElement("tr");
      tr.className = "hist " + h.result;
      tr.setAttribute("data-entry", h.entry);
      cell(tr, h.entry, "num");
      cell(tr, h.elapsed);
      cell(tr, h.ID);
      cell(tr, h.result, "result");
      cell(tr, h.origin);
      cell(tr, describe(h), "info");
      cell(tr, h.duration);
      frag.appendChild(tr);
    });
    body.appendChild(frag);
  }

  // describe turns dsynth's packed info field into words.
  function describe(h) {
    var info = h.info || "";
    var i;
    if (h.result === "failed") {
      i = info.indexOf(":");
      var phase = i < 0 ? info : info.slice(0, i);
      var n = i < 0 ? "" : info.slice(i + 1).trim();
      return "phase " + phase + (n && n !== "0" ? ", skips " + n : "");
    }
    if (h.result === "ignored") {
      i = info.lastIndexOf(":|:");
      if (i >= 0) {
        var cnt = info.slice(i + 3);
        return info.slice(0, i).trim() + (cnt !== "0" ? " (skips " + cnt + ")" : "");
      }
    }
    return info.trim();
  }

  function refresh() {
    getJSON("summary.json").then(function (s) {
      renderSummary(s);
      return loadHistories(s.kfiles || 0).then(function () {
        renderHistory();
        setText("refreshed", new Date().toLocaleTimeString());
        if (s.active) { setTimeout(refresh, REFRESH_MS); }
      });
    }).catch(function () {
      $("state").textContent = "waiting for summary.json";
      setTimeout(refresh, RETRY_MS);
    });
  }

  function wireFilters() {
    var buttons = $("filters").getElementsByTagName("button");
    Array.prototype.forEach.call(buttons, function (b) {
      b.addEventListener("click", function () {
        Array.prototype.forEach.call(buttons, function (o) { o.className = ""; });
        b.className = "on";
        filter.result = b.getAttribute("data-result");
        renderHistory();
      });
    });
    $("search").addEventListener("input", function (e) {
      filter.text = e.target.value.trim();
      renderHistory();
    });
  }

  wireFilters();
  refresh();
})();
