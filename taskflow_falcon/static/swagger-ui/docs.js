// Starts Swagger UI on this server's own document (taskflow_falcon/reference.py serves it):
// a file, not an inline script, so the page's Content-Security-Policy allows no inline script.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Swagger UI would otherwise show a badge fetched from validator.swagger.io.
    validatorUrl: null,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
  });
});
