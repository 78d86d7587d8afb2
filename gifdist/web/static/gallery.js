// Infinite scroll for the gallery: when the "More GIFs" link comes into view, the
// next results are fetched from /gifs/more and appended. Without JavaScript (or
// IntersectionObserver) the link still pages.
(function () {
  "use strict";
  const list = document.getElementById("gallery-items");
  const more = document.getElementById("gallery-more");
  if (!list || !more || !("IntersectionObserver" in window)) return;
  let loading = false;

  function card(item) {
    const li = document.createElement("li");
    li.className = "card";
    const link = document.createElement("a");
    link.href = item.page;
    const img = document.createElement("img");
    img.src = item.img;
    img.width = item.width;
    img.height = item.height;
    img.alt = item.title;
    img.loading = "lazy";
    link.appendChild(img);
    const title = document.createElement("p");
    title.className = "title";
    title.textContent = item.title;
    li.append(link, title);
    return li;
  }

  function load() {
    if (loading || list.dataset.next === undefined) return;
    loading = true;
    const params = new URLSearchParams({
      q: list.dataset.q, tag: list.dataset.tag, offset: list.dataset.next,
    });
    fetch("/gifs/more?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        body.items.forEach(function (item) { list.appendChild(card(item)); });
        if (body.next === null) {
          delete list.dataset.next;
          more.parentElement.remove();
        } else {
          list.dataset.next = String(body.next);
          more.href = "/gifs?" + new URLSearchParams({
            q: list.dataset.q, tag: list.dataset.tag, offset: body.next,
          }).toString();
        }
      })
      .catch(function () { /* the link still works */ })
      .finally(function () { loading = false; });
  }

  new IntersectionObserver(function (entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) load();
  }, { rootMargin: "400px" }).observe(more);
})();
