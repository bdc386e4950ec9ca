// Starts Swagger UI on #swagger-ui. It lives in its own file because the
// Content-Security-Policy (script-src 'self') forbids inline scripts; the
// schema URL comes from a data attribute so the page has no inline config.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    domNode: root,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // The default validator badge would load an image from
    // validator.swagger.io, which img-src 'self' blocks (and which would
    // leak the schema URL to a third party).
    validatorUrl: null,
    // Tokens typed into "Authorize" stay in memory, not in localStorage.
    persistAuthorization: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    tryItOutEnabled: false
  });
})();
