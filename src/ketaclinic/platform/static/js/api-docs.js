// Starts Swagger UI from local files; kept out of the page so the CSP can forbid inline script.
// The region is aria-busy (set in the page) until Swagger UI has drawn the document, so
// assistive technology, and the accessibility tests, know when the page is complete.
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  if (!node) { return; }
  if (!window.SwaggerUIBundle) { node.setAttribute("aria-busy", "false"); return; }
  window.SwaggerUIBundle({
    url: node.dataset.spec,
    dom_id: "#swagger-ui",
    onComplete: function () { node.setAttribute("aria-busy", "false"); }
  });
});
