// Starts Swagger UI from local files; kept out of the page so the CSP can forbid inline script.
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  if (!node || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({ url: node.dataset.spec, dom_id: "#swagger-ui" });
});
