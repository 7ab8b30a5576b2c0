// The session cockpit's tabs and live trend. Without script every tab is a link the
// server answers (?tab=...), and the trend is the chart the server drew.
(function () {
  var nav = document.getElementById("session-tabs");
  if (!nav) { return; }
  var links = Array.prototype.slice.call(nav.querySelectorAll("[data-tab]"));
  function show(id, remember) {
    if (!links.some(function (a) { return a.dataset.tab === id; })) { return false; }
    links.forEach(function (a) {
      var on = a.dataset.tab === id;
      a.setAttribute("aria-selected", on ? "true" : "false");
      var panel = document.getElementById(a.dataset.tab);
      if (panel) { panel.hidden = !on; }
    });
    if (!remember) { return true; }
    // Every form posts the tab chosen, so its redirect comes back to it.
    Array.prototype.forEach.call(document.querySelectorAll('input[name="tab"]'), function (input) {
      input.value = id;
    });
    if (window.history && window.URL) {
      var url = new URL(window.location.href);
      url.searchParams.set("tab", id);
      if (id !== "readings") { url.searchParams.delete("page"); }
      url.hash = "";
      window.history.replaceState(null, "", url.toString());
    }
    return true;
  }
  nav.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-tab]") : null;
    if (!link) { return; }
    event.preventDefault();
    show(link.dataset.tab, true);
    link.focus();
  });
  // Arrow keys move between tabs, as in any tab list.
  nav.addEventListener("keydown", function (event) {
    var at = links.indexOf(document.activeElement);
    if (at < 0 || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) { return; }
    var next = links[(at + (event.key === "ArrowRight" ? 1 : links.length - 1)) % links.length];
    show(next.dataset.tab, true);
    next.focus();
    event.preventDefault();
  });
  // A link into a section (#observations, #scores, ...) opens the tab that holds it.
  // A form of the cockpit returns to its anchor (#vitals, #alarms): the cockpit is the
  // whole screen, so the page stays at its top rather than jump to it.
  function fromHash() {
    var id = window.location.hash.slice(1);
    var target = id ? document.getElementById(id) : null;
    if (target && target.closest && target.closest(".cockpit, .cockpit-head")) {
      window.scrollTo(0, 0);
      // The browser scrolls to the anchor again once the page has loaded.
      window.addEventListener("load", function () {
        window.requestAnimationFrame(function () { window.scrollTo(0, 0); });
      });
      return;
    }
    if (!id || show(id, false)) { return; }
    var panel = target && target.closest ? target.closest(".tab-panel") : null;
    if (panel) { show(panel.id, false); }
  }
  fromHash();
  window.addEventListener("hashchange", fromHash);
})();

// The trend: the server's chart (sessions/trend.py) redrawn with the same geometry when
// live readings arrive; the clock ticks move with the span and new ones are added.
(function () {
  var svg = document.getElementById("trend");
  if (!svg) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var W = 560, H = 190, LEFT = 34, RIGHT = 8, TOP = 8, BOTTOM = 22, YMAX = 220;
  var SERIES = ["systolic_bp", "diastolic_bp", "heart_rate", "spo2"];
  var CSS = { systolic_bp: "t-sbp", diastolic_bp: "t-dbp", heart_rate: "t-hr", spo2: "t-spo2" };
  var NAMES = { systolic_bp: "systolic", diastolic_bp: "diastolic", heart_rate: "heart rate", spo2: "SpO2" };
  var points = [];
  try { points = JSON.parse(svg.dataset.points || "[]"); } catch (e) { points = []; }
  var t0 = Number(svg.dataset.t0), t1 = Number(svg.dataset.t1);
  function px(t) { return LEFT + (t - t0) / Math.max(1, t1 - t0) * (W - LEFT - RIGHT); }
  function py(v) { return TOP + (1 - Math.min(v, YMAX) / YMAX) * (H - TOP - BOTTOM); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function later(label, minutes) {
    var parts = label.split(":");
    var total = (Number(parts[0]) * 60 + Number(parts[1]) + minutes) % 1440;
    return pad(Math.floor(total / 60)) + ":" + pad(total % 60);
  }
  function ticks() {
    var shown = Array.prototype.slice.call(svg.querySelectorAll("text[data-t]"));
    if (shown.length >= 2) {
      var step = Number(shown[1].dataset.t) - Number(shown[0].dataset.t);
      var last = shown[shown.length - 1];
      while (Number(last.dataset.t) + step <= t1) {
        var tick = last.cloneNode(true);
        tick.dataset.t = String(Number(last.dataset.t) + step);
        tick.textContent = later(last.textContent, step / 60000);
        svg.appendChild(tick);
        shown.push(tick);
        last = tick;
      }
    }
    shown.forEach(function (t) { t.setAttribute("x", px(Number(t.dataset.t)).toFixed(1)); });
  }
  function draw() {
    Array.prototype.forEach.call(svg.querySelectorAll("polyline, polygon.trend-band, circle.trend-dot"), function (el) { el.remove(); });
    SERIES.forEach(function (name) {
      var shown = points.filter(function (p) { return p[name]; });
      if (!shown.length) { return; }
      var spread = shown.some(function (p) { return p[name][1] !== p[name][2]; });
      if (spread) {
        var upper = shown.map(function (p) { return px(p.t).toFixed(1) + "," + py(p[name][2]).toFixed(1); });
        var lower = shown.slice().reverse().map(function (p) { return px(p.t).toFixed(1) + "," + py(p[name][1]).toFixed(1); });
        var band = document.createElementNS(NS, "polygon");
        band.setAttribute("points", upper.concat(lower).join(" "));
        band.setAttribute("class", "trend-band " + CSS[name]);
        svg.appendChild(band);
      }
      var line = document.createElementNS(NS, "polyline");
      line.setAttribute("points", shown.map(function (p) { return px(p.t).toFixed(1) + "," + py(p[name][0]).toFixed(1); }).join(" "));
      line.setAttribute("class", "trend-line " + CSS[name]);
      line.dataset.series = name;
      var title = document.createElementNS(NS, "title");
      title.textContent = NAMES[name];
      line.appendChild(title);
      svg.appendChild(line);
      if (shown.length <= 40) {
        shown.forEach(function (p) {
          var dot = document.createElementNS(NS, "circle");
          dot.setAttribute("cx", px(p.t).toFixed(1));
          dot.setAttribute("cy", py(p[name][0]).toFixed(1));
          dot.setAttribute("r", "2.5");
          dot.setAttribute("class", "trend-dot " + CSS[name]);
          svg.appendChild(dot);
        });
      }
    });
  }
  document.addEventListener("ketaclinic:vitals", function (event) {
    event.detail.forEach(function (r) {
      var point = { t: Date.parse(r.taken_at) };
      SERIES.forEach(function (name) {
        if (r[name] !== null && r[name] !== undefined) { point[name] = [r[name], r[name], r[name]]; }
      });
      points.push(point);
      if (point.t > t1) { t1 = point.t; }
    });
    ticks();
    draw();
  });
})();

// The next reading due, as the live stream words it (sessions/pages.py,
// next_reading_shown): when a reading is charted or the pump starts, pauses or stops,
// and when a reading falls due or overdue. The words and the state are the server's.
(function () {
  var line = document.getElementById("next-reading-line");
  if (!line) { return; }
  var lead = document.getElementById("next-reading-lead");
  var detail = document.getElementById("next-reading-detail");
  document.addEventListener("ketaclinic:next-reading", function (event) {
    var shown = event.detail;
    line.className = "next-" + shown.status + (shown.status === "none" ? " muted" : "");
    line.hidden = shown.status === "closed";
    if (lead) { lead.textContent = shown.lead; }
    if (detail) { detail.textContent = shown.detail; }
  });
})();
