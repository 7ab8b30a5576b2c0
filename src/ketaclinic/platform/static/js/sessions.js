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
