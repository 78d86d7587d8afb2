// Upload page: drag and drop or pick GIFs, per-file progress, share links per platform.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const list = document.getElementById("uploads");
  const template = document.getElementById("upload-item");
  const csrf = form.dataset.csrf;
  const maxBytes = Number(form.dataset.maxBytes);
  const platforms = [
    ["slack", "Slack link"], ["discord", "Discord link"], ["teams", "Teams link"],
    ["twitter", "X / Twitter link"], ["facebook", "Facebook link"], ["web", "plain link"],
  ];
  const statusText = {
    pending: "Waiting for the safety check: only you can see it until it is approved.",
    approved: "Approved: the links work for everyone.",
    flagged: "Held for a moderator's review: the links work once it is approved.",
    rejected: "Rejected by the safety check: it will not be shown.",
  };

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      headers: Object.assign({ "X-CSRF-Token": csrf }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(errorMessage(response.status, data)); }
        return data;
      });
    });
  }

  function errorMessage(status, data) {
    const message = data && data.error ? data.error.message : "the upload failed (" + status + ")";
    if (status === 429) { return "Too many uploads right now: " + message; }
    return message.charAt(0).toUpperCase() + message.slice(1);
  }

  function showError(item, message) {
    const el = item.querySelector(".error-msg");
    el.textContent = message;
    el.hidden = false;
    item.querySelector(".state").textContent = "refused";
    item.querySelector("progress").hidden = true;
  }

  function shareButtons(item, asset) {
    const box = item.querySelector(".shares");
    const links = {};
    platforms.forEach(function (pair) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Copy " + pair[1];
      button.dataset.via = pair[0];
      button.addEventListener("click", function () {
        const ready = links[pair[0]] ? Promise.resolve(links[pair[0]])
          : api("POST", "/api/v1/assets/" + asset.asset_id + "/links", { via: pair[0] })
              .then(function (link) { links[pair[0]] = link; return link; });
        ready.then(function (link) {
          button.dataset.url = link.short_url;
          return navigator.clipboard.writeText(link.short_url).catch(function () {});
        }).then(function () {
          button.textContent = "Copied " + pair[1] + " link";
          setTimeout(function () { button.textContent = "Copy " + pair[1]; }, 2500);
        }).catch(function (err) { showError(item, err.message); });
      });
      box.appendChild(button);
    });
  }

  function watchStatus(item, asset) {
    const el = item.querySelector(".status");
    el.textContent = statusText[asset.status] || asset.status;
    if (asset.status !== "pending") { return; }
    setTimeout(function () {
      api("GET", "/api/v1/assets/" + asset.asset_id).then(function (fresh) { watchStatus(item, fresh); })
        .catch(function () { watchStatus(item, asset); });
    }, 2000);
  }

  function showResult(item, asset) {
    item.querySelector(".state").textContent = "uploaded";
    item.querySelector("progress").value = 100;
    const result = item.querySelector(".result");
    const img = item.querySelector(".thumb");
    img.src = "/api/v1/assets/" + asset.asset_id + "/content";
    img.width = asset.width;
    img.height = asset.height;
    img.alt = asset.title || "Uploaded GIF";
    const link = item.querySelector(".canonical");
    link.href = asset.canonical_url;
    link.textContent = asset.canonical_url;
    shareButtons(item, asset);
    watchStatus(item, asset);
    result.hidden = false;
  }

  function upload(file) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.querySelector(".name").textContent = file.name;
    item.querySelector(".state").textContent = "uploading";
    list.appendChild(item);
    if (file.type && file.type !== "image/gif") { showError(item, "Not a GIF: only .gif files can be uploaded."); return; }
    if (file.size > maxBytes) { showError(item, "Too large: the limit is " + Math.round(maxBytes / 1048576) + " MB."); return; }
    const data = new FormData();
    data.append("file", file, file.name);
    data.append("title", form.title.value || file.name.replace(/\.gif$/i, ""));
    if (form.tags.value) { data.append("tags", form.tags.value); }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/assets");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { item.querySelector("progress").value = Math.round(100 * event.loaded / event.total); }
    });
    xhr.addEventListener("load", function () {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300 && body) { showResult(item, body); }
      else { showError(item, errorMessage(xhr.status, body)); }
    });
    xhr.addEventListener("error", function () { showError(item, "The connection failed; try again."); });
    xhr.send(data);
  }

  function handle(files) { Array.prototype.forEach.call(files, upload); }

  input.addEventListener("change", function () { handle(input.files); input.value = ""; });
  document.getElementById("pick").addEventListener("click", function () { input.click(); });
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (event) { handle(event.dataTransfer.files); });
})();
