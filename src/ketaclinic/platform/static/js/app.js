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
