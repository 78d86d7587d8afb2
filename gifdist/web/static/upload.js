// Upload page: drag and drop or pick GIFs, describe each one (title, tags, description),
// send them; per-file progress, share links per platform, and a word when it is a re-upload.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const list = document.getElementById("uploads");
  const template = document.getElementById("upload-item");
  const csrf = form.dataset.csrf;
  const maxBytes = Number(form.dataset.maxBytes);
  const send = document.getElementById("send");
  const queued = [];
  let counter = 0;
  const platforms = [
    ["slack", "Slack"], ["discord", "Discord"], ["teams", "Teams"],
    ["twitter", "X / Twitter"], ["facebook", "Facebook"], ["web", "plain"],
  ];
  const statusText = {
    pending: "Waiting for the safety check: only you can see it until it is approved; share links appear here then.",
    approved: "Approved: the links work for everyone.",
    flagged: "Held for a moderator's review: only you can see it; share links appear here once a moderator approves it.",
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
    done(item);
    const result = item.querySelector(".result");
    if (result && result.hidden) { result.remove(); }
  }

  function done(item) {
    ["describe", "remove"].forEach(function (name) {
      const el = item.querySelector("." + name);
      if (el) { el.remove(); }
    });
  }

  function shareButtons(item, asset) {
    const box = item.querySelector(".shares");
    const shown = item.querySelector(".share-link");
    const field = shown.querySelector("input");
    const said = item.querySelector(".copy-status");
    const links = {};
    field.id = "share-link-" + asset.asset_id;
    shown.querySelector("label").htmlFor = field.id;
    platforms.forEach(function (pair) {
      const via = pair[0];
      const label = "Copy " + pair[1] + " link";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = label;
      button.dataset.via = via;
      button.addEventListener("click", function () {
        button.disabled = true;
        const ready = links[via] ? Promise.resolve(links[via])
          : api("POST", "/api/v1/assets/" + asset.asset_id + "/links", { via: via })
              .then(function (link) { links[via] = link; return link; });
        ready.then(function (link) {
          button.dataset.url = link.short_url;
          field.value = link.short_url;
          shown.querySelector("label").textContent = pair[1] + " link";
          shown.hidden = false;
          return copy(link.short_url).then(function () {
            button.textContent = "Copied";
            button.classList.add("copied");
            said.textContent = pair[1] + " link copied to the clipboard.";
            setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2500);
          }, function () {
            said.textContent = "Could not reach the clipboard: the " + pair[1] + " link is selected below, copy it yourself.";
            field.focus();
            field.select();
          });
        }).catch(function (err) {
          said.textContent = "Could not make the " + pair[1] + " link: " + err.message;
        }).then(function () { button.disabled = false; });
      });
      box.appendChild(button);
    });
  }

  function copy(text) {
    if (!navigator.clipboard) { return Promise.reject(new Error("no clipboard")); }
    return navigator.clipboard.writeText(text);
  }

  function watchStatus(item, asset) {
    const el = item.querySelector(".status");
    el.textContent = statusText[asset.status] || asset.status;
    item.querySelector(".state").textContent = asset.status === "approved" ? "ready" : asset.status;
    item.querySelector(".shares").hidden = asset.status !== "approved";
    if (asset.status !== "pending" && asset.status !== "flagged") { return; }
    setTimeout(function () {
      api("GET", "/api/v1/assets/" + asset.asset_id).then(function (fresh) { watchStatus(item, fresh); })
        .catch(function () { watchStatus(item, asset); });
    }, asset.status === "pending" ? 2000 : 10000);
  }

  function showResult(item, asset) {
    done(item);
    item.querySelector(".state").textContent = asset.already_uploaded ? "already uploaded" : "uploaded";
    if (asset.already_uploaded) {
      const again = item.querySelector(".again");
      again.querySelector(".mine").href = "/a/" + asset.asset_id;
      again.hidden = false;
    }
    item.querySelector(".manage").href = "/a/" + asset.asset_id;
    if (asset.title) { item.querySelector(".name").textContent = asset.title; }
    item.querySelector("progress").hidden = true;
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

  function add(file) {
    const item = template.content.firstElementChild.cloneNode(true);
    counter += 1;
    item.querySelector(".name").textContent = file.name;
    ["title", "tags", "description"].forEach(function (name) {
      const field = item.querySelector(".f-" + name);
      field.id = "upload-" + counter + "-" + name;
      item.querySelector(".f-" + name + "-label").htmlFor = field.id;
    });
    item.querySelector(".f-title").value = file.name.replace(/\.gif$/i, "");
    list.appendChild(item);
    if (file.type && file.type !== "image/gif") { showError(item, "Not a GIF: only .gif files can be uploaded."); return; }
    if (file.size > maxBytes) { showError(item, "Too large: the limit is " + Math.round(maxBytes / 1048576) + " MB."); return; }
    item.querySelector(".state").textContent = "ready to send";
    const entry = { file: file, item: item };
    item.querySelector(".remove").addEventListener("click", function () {
      const at = queued.indexOf(entry);
      if (at >= 0) { queued.splice(at, 1); }
      item.remove();
      updateSend();
    });
    queued.push(entry);
    updateSend();
  }

  function updateSend() {
    send.hidden = queued.length === 0;
    send.textContent = queued.length === 1 ? "Upload 1 GIF" : "Upload " + queued.length + " GIFs";
  }

  function upload(entry) {
    const item = entry.item;
    const file = entry.file;
    const data = new FormData();
    data.append("file", file, file.name);
    data.append("title", item.querySelector(".f-title").value.trim() || file.name.replace(/\.gif$/i, ""));
    const tags = item.querySelector(".f-tags").value.trim();
    if (tags) { data.append("tags", tags); }
    const description = item.querySelector(".f-description").value.trim();
    if (description) { data.append("description", description); }
    item.querySelectorAll(".describe input, .describe textarea").forEach(function (field) { field.readOnly = true; });
    const removeButton = item.querySelector(".remove");
    if (removeButton) { removeButton.remove(); }
    const progress = item.querySelector("progress");
    progress.hidden = false;
    progress.setAttribute("aria-label", "Uploading " + file.name);
    item.querySelector(".state").textContent = "uploading";
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/assets");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { progress.value = Math.round(100 * event.loaded / event.total); }
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

  function handle(files) { Array.prototype.forEach.call(files, add); }

  send.addEventListener("click", function () {
    queued.splice(0).forEach(upload);
    updateSend();
  });
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
