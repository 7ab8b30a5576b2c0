// The signature pad of the consent page: strokes drawn with a finger, stylus or mouse
// on a <canvas>, kept as a PNG data URL in the form's hidden "signature" field. No
// library and no network: the clinic may be offline.
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  var field = document.getElementById("signature-data");
  var clear = document.getElementById("signature-clear");
  if (!canvas || !field || !canvas.getContext) return;
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  var last = null;

  function reset() {
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#10233f";
    ctx.lineWidth = 2.5;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    drawn = false;
    field.value = "";
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  }

  function down(event) {
    drawing = true;
    last = point(event);
    if (canvas.setPointerCapture && event.pointerId !== undefined) {
      try { canvas.setPointerCapture(event.pointerId); } catch (e) { /* not captured */ }
    }
    event.preventDefault();
  }

  function move(event) {
    if (!drawing) return;
    var here = point(event);
    ctx.beginPath();
    ctx.moveTo(last.x, last.y);
    ctx.lineTo(here.x, here.y);
    ctx.stroke();
    last = here;
    drawn = true;
    event.preventDefault();
  }

  function up() {
    if (!drawing) return;
    drawing = false;
    if (drawn) field.value = canvas.toDataURL("image/png");
  }

  reset();
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointerleave", up);
  canvas.addEventListener("pointercancel", up);
  if (clear) clear.addEventListener("click", reset);
})();
