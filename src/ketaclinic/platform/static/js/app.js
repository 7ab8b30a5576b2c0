// Small progressive enhancements; every page works without them.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var question = button && button.dataset ? button.dataset.confirm : null;
  if (question && !window.confirm(question)) { event.preventDefault(); }
});

// The alert banner is a polite status region: a screen reader reads it when it is new or
// has changed, once, not on every page. What was read is remembered for this tab; a
// banner not read yet is put back into the region after load, which announces it.
window.ketaclinicBanners = (function () {
  "use strict";
  var KEY = "ketaclinic.banners.announced";
  function text(box) { return (box.textContent || "").replace(/\s+/g, " ").trim(); }
  function remember(box) {
    try { window.sessionStorage.setItem(KEY, text(box)); } catch (e) { /* private mode */ }
  }
  function announced(box) {
    try { return window.sessionStorage.getItem(KEY) === text(box); } catch (e) { return false; }
  }
  function announce() {
    var box = document.getElementById("banners");
    if (!box) { remember({ textContent: "" }); return; }
    if (announced(box)) { box.setAttribute("data-announced", "before"); return; }
    var items = Array.prototype.slice.call(box.childNodes);
    items.forEach(function (n) { box.removeChild(n); });
    window.setTimeout(function () {
      items.forEach(function (n) { box.appendChild(n); });
      box.setAttribute("data-announced", "now");
      remember(box);
    }, 250);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", announce);
  } else {
    announce();
  }
  return { remember: remember };
})();

// After a refused form the summary of its errors takes the focus, so it is read first.
(function () {
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();

// A page that keeps itself current (data-refresh="seconds") reloads on that beat, and its
// toggle button pauses it (WCAG 2.1 SC 2.2.1: a time limit the person can turn off), which this
// tab remembers; a page being typed into is not reloaded under the person's hands.
(function () {
  var box = document.querySelector("[data-refresh]");
  if (!box) { return; }
  box.hidden = false;  // the pause works with the script that refreshes
  var KEY = "ketaclinic.refresh.stopped:" + window.location.pathname;
  var button = box.querySelector("button");
  var seconds = Math.max(2, parseInt(box.getAttribute("data-refresh"), 10) || 5);
  function stopped() {
    try { return window.sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function show() {
    if (!button) { return; }
    button.setAttribute("aria-pressed", stopped() ? "true" : "false");
  }
  if (button) {
    button.addEventListener("click", function () {
      try { window.sessionStorage.setItem(KEY, stopped() ? "0" : "1"); } catch (e) { /* */ }
      show();
    });
  }
  show();
  window.setInterval(function () {
    var typing = document.activeElement && /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
    if (!stopped() && !typing) { window.location.reload(); }
  }, seconds * 1000);
})();
