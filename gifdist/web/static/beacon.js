// Reports a play of the GIF on this page once it has loaded (the server counts
// each visitor's play of an asset once, so reloads and a CDN-served copy agree).
(function () {
  "use strict";
  var img = document.querySelector("img.gif[data-asset]");
  if (!img || !navigator.sendBeacon) return;
  function report() {
    var body = { asset_id: img.dataset.asset, event_type: "play" };
    if (img.dataset.via) body.platform = img.dataset.via;
    navigator.sendBeacon("/api/v1/events", JSON.stringify(body));
  }
  if (img.complete && img.naturalWidth > 0) report();
  else img.addEventListener("load", report, { once: true });
})();
