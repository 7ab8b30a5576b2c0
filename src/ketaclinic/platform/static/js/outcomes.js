// Keeps the suicidality alert banner current on open clinician pages: asks the server
// every 20 seconds. Pages work without it (the banner is also rendered server-side).
(function () {
  "use strict";
  var ENDPOINT = "/api/outcomes/alerts/banner";
  var EVERY_MS = 20000;
  var OWN = "data-outcomes-banner";
  var timer = null;

  function container() {
    var box = document.getElementById("banners");
    if (box) { return box; }
    box = document.createElement("div");
    box.id = "banners";
    box.className = "banners";
    box.setAttribute("role", "status");
    box.setAttribute("aria-live", "polite");
    var header = document.querySelector("header.topbar");
    if (header && header.parentNode) {
      header.parentNode.insertBefore(box, header.nextSibling);
    } else {
      document.body.insertBefore(box, document.body.firstChild);
    }
    return box;
  }

  function show(banners) {
    var box = document.getElementById("banners");
    var now = banners.map(function (b) { return b.text; }).join("\n");
    var shown = box ? Array.prototype.map.call(
      box.querySelectorAll("[" + OWN + "], a[href='/outcomes/alerts']"),
      function (n) { return n.textContent; }).join("\n") : "";
    if (now === shown) { return; }  // unchanged: say nothing again
    box = container();
    // Replace alert banners (ours, or the server-rendered one pointing at the queue).
    var old = box.querySelectorAll("[" + OWN + "], a[href='/outcomes/alerts']");
    for (var i = 0; i < old.length; i++) {
      var node = old[i].closest ? old[i].closest("p.banner") || old[i] : old[i];
      if (node.parentNode) { node.parentNode.removeChild(node); }
    }
    banners.forEach(function (b) {
      var p = document.createElement("p");
      p.className = "banner banner-" + (b.level || "info");
      p.setAttribute(OWN, "1");
      if (b.href) {
        var a = document.createElement("a");
        a.href = b.href;
        a.textContent = b.text;
        p.appendChild(a);
      } else {
        p.textContent = b.text;
      }
      box.appendChild(p);
    });
    if (window.ketaclinicBanners) { window.ketaclinicBanners.remember(box); }
  }

  function poll() {
    fetch(ENDPOINT, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { window.clearInterval(timer); return null; }
        return response.json();
      })
      .then(function (body) { if (body) { show(body.banners || []); } })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  if (!window.__outcomesBannerPoll) {
    window.__outcomesBannerPoll = true;
    timer = window.setInterval(poll, EVERY_MS);
  }
})();
