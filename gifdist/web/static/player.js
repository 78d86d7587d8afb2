// A GIF page plays the MP4 rendition; where the browser cannot play it (no H.264,
// or the file failed) the <video> is replaced by the picture in the template after
// it (the WebP, else the GIF), which is fetched only then.
(function () {
  "use strict";
  document.querySelectorAll("video.gif").forEach(function (video) {
    var source = video.querySelector("source");
    var template = video.nextElementSibling;
    if (!source || !template || !template.matches("template.gif-fallback")) return;
    function useFallback() {
      if (!video.parentNode) return;
      video.replaceWith(template.content.cloneNode(true));
      document.dispatchEvent(new CustomEvent("gifdist:fallback"));
    }
    if (!video.canPlayType(source.type)) useFallback();
    else source.addEventListener("error", useFallback, { once: true });
  });
})();
