// Session page: the elapsed time ticks between page loads. The page works without this;
// every figure shown comes from the server, which derives it from the charted events.
(function () {
  var pump = document.querySelector("dl.pump[data-start]");
  var elapsed = document.getElementById("elapsed");
  if (pump && elapsed && pump.dataset.state === "running") {
    var start = Date.parse(pump.dataset.start);
    var base = elapsed.textContent.replace(/^\d+ min/, "");
    setInterval(function () {
      elapsed.textContent = Math.floor((Date.now() - start) / 60000) + " min" + base;
    }, 15000);
  }
  // After charting vitals, the heart-rate box has focus again (autofocus) for the next set.
  var form = document.getElementById("vitals-form");
  if (form && location.hash === "#vitals") {
    var first = document.getElementById("v-hr");
    if (first) { first.focus(); }
  }
})();

// The live session screen: new readings, alarms and the next reading due arrive over
// Server-Sent Events from /sessions/<id>/live (ketaclinic itself, no other server).
// Without script the page still shows everything charted when it was loaded.
(function () {
  var vitals = document.querySelector("#vitals[data-live]");
  if (!vitals || !window.EventSource) { return; }
  var alarmsBox = document.getElementById("alarms") || document.getElementById("alarms-live");
  var list = document.getElementById("alarm-list");
  var state = document.getElementById("live-state");
  var tbody = document.querySelector("#vitals-table tbody");
  var zone = document.documentElement.dataset.zone || undefined;

  function clock(iso) {
    try {
      return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: zone });
    } catch (e) { return iso; }
  }
  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value === null || value === undefined ? "–" : String(value); }
  }
  // The section the nurse chose, kept by every form (as the server draws them).
  function keptTab() {
    var kept = document.createElement("input");
    kept.type = "hidden"; kept.name = "tab";
    var any = document.querySelector('input[name="tab"]');
    kept.value = any ? any.value : "";
    return kept;
  }
  function cell(row, value) {
    var td = document.createElement("td");
    td.textContent = value === null || value === undefined ? "" : String(value);
    row.appendChild(td);
  }
  // The same entered-in-error form as a row the server drew (session.html).
  function errorForm(id) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/sessions/" + alarmsBox.dataset.session + "/vitals/" + id + "/error";
    form.className = "inline";
    var csrf = document.createElement("input");
    csrf.type = "hidden"; csrf.name = "csrf_token"; csrf.value = alarmsBox.dataset.csrf;
    form.appendChild(keptTab());
    var label = document.createElement("label");
    label.className = "visually-hidden"; label.htmlFor = "ve-" + id; label.textContent = "Why is this reading wrong";
    var reason = document.createElement("input");
    reason.id = "ve-" + id; reason.name = "reason"; reason.required = true; reason.minLength = 3; reason.placeholder = "why wrong"; reason.size = 10;
    var button = document.createElement("button");
    button.type = "submit"; button.textContent = "Mark in error";
    form.appendChild(csrf); form.appendChild(label); form.appendChild(reason); form.appendChild(button);
    return form;
  }
  // A beep for a new alarm, made here with WebAudio (no sound file). Browsers let a page
  // make sound only after a user gesture, so the nurse turns it on with the button.
  var audio = null;
  var sound = document.createElement("button");
  sound.type = "button"; sound.id = "sound-toggle"; sound.className = "small";
  sound.textContent = "Sound on"; sound.setAttribute("aria-pressed", "false");
  sound.dataset.beeps = "0";
  if (state) { state.parentNode.insertBefore(sound, state.nextSibling); }
  function beep(times, pitch) {
    if (!audio || audio.state !== "running") { return; }
    for (var i = 0; i < times; i++) {
      var at = audio.currentTime + i * 0.3;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.type = "square";
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      tone.connect(gain); gain.connect(audio.destination);
      tone.start(at); tone.stop(at + 0.22);
    }
    sound.dataset.beeps = String(Number(sound.dataset.beeps) + times);
  }
  sound.addEventListener("click", function () {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { sound.textContent = "No sound in this browser"; sound.disabled = true; return; }
    if (!audio) { audio = new Context(); }
    var on = sound.getAttribute("aria-pressed") !== "true";
    (on ? audio.resume() : audio.suspend()).then(function () {
      sound.setAttribute("aria-pressed", on ? "true" : "false");
      sound.textContent = on ? "Sound off" : "Sound on";
      if (on) { beep(1, 660); }  // the nurse hears what an alarm will sound like
    });
  });
  function onVitals(readings) {
    readings.forEach(function (r) {
      if (tbody) {
        var empty = tbody.querySelector("td[colspan]");
        if (empty) { empty.parentNode.remove(); }
        var row = document.createElement("tr");
        row.className = "live-new";
        row.dataset.reading = r.id;
        cell(row, clock(r.taken_at));
        cell(row, "");
        cell(row, r.heart_rate);
        cell(row, r.systolic_bp ? r.systolic_bp + "/" + r.diastolic_bp : "");
        cell(row, r.mean_bp);
        cell(row, r.spo2);
        cell(row, r.respiratory_rate);
        cell(row, r.temperature === null ? "" : r.temperature.toFixed(1));
        cell(row, r.source);
        var correction = document.createElement("td");
        correction.appendChild(errorForm(r.id));
        row.appendChild(correction);
        tbody.insertBefore(row, tbody.firstChild);
      }
    });
    var last = readings[readings.length - 1];
    text("latest-time", clock(last.taken_at).slice(0, 5));
    var into = document.getElementById("latest-into");
    var pump = document.querySelector("dl.pump[data-start]");
    if (into && pump) {
      into.textContent = "(" + Math.floor((Date.parse(last.taken_at) - Date.parse(pump.dataset.start)) / 60000) + " min in)";
    }
    if (last.heart_rate !== null) { text("latest-hr", last.heart_rate); }
    if (last.systolic_bp !== null) { text("latest-bp", last.systolic_bp + "/" + last.diastolic_bp); }
    if (last.spo2 !== null) { text("latest-spo2", last.spo2); }
    if (last.respiratory_rate !== null) { text("latest-rr", last.respiratory_rate); }
    if (last.mean_bp !== null) { text("latest-map", last.mean_bp); }
    if (last.temperature !== null) { text("latest-temp", last.temperature.toFixed(1) + " °C"); }
  }
  function alarmItem(a) {
    var item = document.createElement("div");
    item.className = "alarm-item level-" + a.level;
    item.dataset.alarm = a.id;
    item.dataset.said = said(a);
    var head = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = a.level.toUpperCase();
    head.appendChild(strong);
    head.appendChild(document.createTextNode(" at " + clock(a.raised_at).slice(0, 5) + ": " + a.message));
    var act = document.createElement("p");
    act.textContent = "Do: " + a.action;
    var basis = document.createElement("p");
    basis.className = "muted small";
    basis.textContent = "Basis: " + a.source + " [" + a.evidence + "]";
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/sessions/" + alarmsBox.dataset.session + "/alarms/" + a.id + "/acknowledge";
    form.className = "row";
    var csrf = document.createElement("input");
    csrf.type = "hidden"; csrf.name = "csrf_token"; csrf.value = alarmsBox.dataset.csrf;
    form.appendChild(keptTab());
    var label = document.createElement("label");
    label.htmlFor = "ack-" + a.id; label.textContent = "What was done";
    var note = document.createElement("input");
    note.id = "ack-" + a.id; note.name = "note"; note.required = true; note.maxLength = 2000; note.size = 40;
    note.minLength = parseInt(alarmsBox.dataset.ackMin || "3", 10);
    var button = document.createElement("button");
    button.type = "submit"; button.textContent = "Acknowledge";
    form.appendChild(csrf); form.appendChild(label); form.appendChild(note); form.appendChild(button);
    item.appendChild(head); item.appendChild(act); item.appendChild(basis); item.appendChild(form);
    return item;
  }
  function said(a) { return a.level + "|" + a.message; }
  // An alarm kept open with other words (a reading it rested on was marked entered in
  // error, and the rule still fires from the others): its level, text, what to do and
  // basis are redrawn; its acknowledgement form, and any note being typed in it, stay.
  function redraw(el, a) {
    var fresh = alarmItem(a);
    el.className = fresh.className;
    el.dataset.said = fresh.dataset.said;
    for (var i = 0; i < 3; i++) { el.replaceChild(fresh.children[0], el.children[i]); }
  }
  function onAlarms(alarms) {
    if (!alarmsBox || !list) { return; }
    var shown = {};
    Array.prototype.forEach.call(list.querySelectorAll("[data-alarm]"), function (el) { shown[el.dataset.alarm] = el; });
    var open = {};
    var fresh = "";
    alarms.forEach(function (a) {
      open[a.id] = true;
      if (!shown[a.id]) {
        list.appendChild(alarmItem(a));
        alarmsBox.classList.add("alarm-new");
        fresh = fresh || a.level;
        if (a.level === "stop") { fresh = "stop"; }
      } else if (shown[a.id].dataset.said !== said(a)) {
        redraw(shown[a.id], a);
      }
    });
    // One cue per update, however many alarms it brought: three high beeps for a stop.
    if (fresh) { beep(fresh === "stop" ? 3 : 1, fresh === "stop" ? 988 : 740); }
    Object.keys(shown).forEach(function (id) {
      // Keep an item whose note is being typed; drop those acknowledged elsewhere.
      if (!open[id] && !shown[id].contains(document.activeElement)) { shown[id].remove(); }
    });
    alarmsBox.hidden = alarms.length === 0;
    var none = document.getElementById("no-alarms");
    if (none) { none.hidden = alarms.length !== 0; }
  }
  var source = new EventSource(vitals.dataset.live);
  source.addEventListener("vitals", function (e) {
    var readings = JSON.parse(e.data);
    onVitals(readings);
    document.dispatchEvent(new CustomEvent("ketaclinic:vitals", { detail: readings }));
  });
  source.addEventListener("alarms", function (e) { onAlarms(JSON.parse(e.data)); });
  source.addEventListener("next-reading", function (e) {
    document.dispatchEvent(new CustomEvent("ketaclinic:next-reading", { detail: JSON.parse(e.data) }));
  });
  source.addEventListener("closed", function () { source.close(); if (state) { state.textContent = "(session closed)"; } });
  source.onopen = function () { if (state) { state.textContent = "(live)"; } };
  source.onerror = function () { if (state) { state.textContent = "(reconnecting…)"; } };
})();
