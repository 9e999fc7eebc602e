// Swagger UI for the VetRed API. Kept out of index.html so the page works
// under a Content-Security-Policy without 'unsafe-inline' scripts.
"use strict";

window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    // The default validator badge calls validator.swagger.io; stay local.
    validatorUrl: null
  });
});
