// Reports a play of the GIF on this page once it shows: the video rendition playing,
// or the GIF (or its WebP) loaded where there is no video or it cannot play. The
// server counts each visitor's play of an asset once, so reloads and a CDN agree.
(function () {
  "use strict";
  if (!navigator.sendBeacon) return;
  var sent = false;
  function report(asset, via) {
    if (sent) return;
    sent = true;
    var body = { asset_id: asset, event_type: "play" };
    if (via) body.platform = via;
    navigator.sendBeacon("/api/v1/events", JSON.stringify(body));
  }
  function watchImage() {
    var img = document.querySelector("img.gif[data-asset]");
    if (!img) return;
    var done = function () { report(img.dataset.asset, img.dataset.via); };
    if (img.complete && img.naturalWidth > 0) done();
    else img.addEventListener("load", done, { once: true });
  }
  var video = document.querySelector("video.gif[data-asset]");
  if (!video) {
    watchImage();
    return;
  }
  var played = function () { report(video.dataset.asset, video.dataset.via); };
  if (!video.paused && video.currentTime > 0) played();
  else video.addEventListener("playing", played, { once: true });
  document.addEventListener("gifdist:fallback", watchImage, { once: true });
})();
