// The owner's panel on the asset page: share links per platform (made on demand), QR
// codes, links with options, edit, privacy, delete, and the moderation status followed
// live. Every change goes through the JSON API with the session's CSRF token.
(function () {
  "use strict";
  const panel = document.getElementById("owner");
  if (!panel) return;
  const assetId = panel.dataset.asset;
  const csrf = panel.dataset.csrf;
  const assetUrl = "/api/v1/assets/" + encodeURIComponent(assetId);

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      headers: Object.assign({ "X-CSRF-Token": csrf }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().then(function (data) {
        if (!response.ok) {
          const message = data && data.error ? data.error.message : "the request failed (" + response.status + ")";
          throw new Error(message.charAt(0).toUpperCase() + message.slice(1));
        }
        return data;
      }, function () { throw new Error("The request failed (" + response.status + ")."); });
    });
  }

  function say(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }

  function copy(text) {
    if (!navigator.clipboard) return Promise.reject(new Error("no clipboard"));
    return navigator.clipboard.writeText(text);
  }

  function codeOf(url) { return url.slice(url.lastIndexOf("/") + 1); }

  // share ----------------------------------------------------------------------------
  const field = document.getElementById("share-url");
  const shown = document.getElementById("share-shown");

  function show(url, label) {
    field.value = url;
    shown.querySelector("label").textContent = label;
    shown.hidden = false;
  }

  function showQr(code, label) {
    const figure = document.getElementById("qr");
    const image = document.getElementById("qr-image");
    image.src = "/s/" + encodeURIComponent(code) + ".svg";
    image.alt = "QR code of " + label;
    document.getElementById("qr-png").href = "/s/" + encodeURIComponent(code) + ".png";
    say("qr-caption", "QR code of " + label + ".");
    figure.hidden = false;
  }

  function addRow(link) {
    const rows = document.getElementById("link-rows");
    if (!rows || rows.querySelector("tr[data-code='" + link.short_code + "']")) return;
    const row = document.createElement("tr");
    row.dataset.code = link.short_code;
    const head = document.createElement("th");
    head.scope = "row";
    const code = document.createElement("code");
    code.textContent = link.short_url;
    head.appendChild(code);
    row.appendChild(head);
    const limits = [];
    if (link.password_protected) limits.push("password");
    if (link.max_clicks) limits.push(link.max_clicks + " clicks");
    if (link.expires_at) limits.push("until " + link.expires_at.slice(0, 16).replace("T", " "));
    [link.via || "any", limits.join(" "), (link.created_at || "").slice(0, 10)].forEach(function (text) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    });
    const actions = document.createElement("td");
    actions.className = "row-actions";
    const qr = document.createElement("button");
    qr.type = "button";
    qr.className = "secondary";
    qr.textContent = "QR";
    qr.dataset.qr = link.short_code;
    actions.appendChild(qr);
    row.appendChild(actions);
    rows.appendChild(row);
    const none = document.getElementById("no-links");
    if (none) none.hidden = true;
  }

  function platformLink(button) {
    if (button.dataset.url) return Promise.resolve(button.dataset.url);
    return api("POST", assetUrl + "/links", { via: button.dataset.via }).then(function (link) {
      button.dataset.url = link.short_url;
      addRow(link);
      return link.short_url;
    });
  }

  panel.querySelectorAll(".shares button[data-via]").forEach(function (button) {
    const label = button.textContent;
    button.addEventListener("click", function () {
      button.disabled = true;
      platformLink(button).then(function (url) {
        show(url, button.dataset.label + " link");
        return copy(url).then(function () {
          button.textContent = "Copied";
          button.classList.add("copied");
          say("share-status", button.dataset.label + " link copied to the clipboard.");
          setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2500);
        }, function () {
          say("share-status", "Could not reach the clipboard: the " + button.dataset.label + " link is selected below, copy it yourself.");
          field.focus();
          field.select();
        });
      }).catch(function (err) {
        say("share-status", "Could not make the " + button.dataset.label + " link: " + err.message);
      }).then(function () { button.disabled = false; });
    });
  });

  const qrButton = document.getElementById("share-qr");
  if (qrButton) {
    qrButton.addEventListener("click", function () {
      const web = panel.querySelector(".shares button[data-via=web]");
      const ready = field.value ? Promise.resolve(field.value) : platformLink(web);
      ready.then(function (url) {
        if (!field.value) show(url, "Web link");
        showQr(codeOf(url), url);
      }).catch(function (err) { say("share-status", "Could not make the QR code: " + err.message); });
    });
  }

  panel.addEventListener("click", function (event) {
    const target = event.target;
    if (target instanceof HTMLButtonElement && target.dataset.qr) {
      const row = target.closest("tr");
      showQr(target.dataset.qr, row ? row.querySelector("code").textContent : target.dataset.qr);
    }
  });

  const newLink = document.getElementById("new-link");
  if (newLink) {
    newLink.addEventListener("submit", function (event) {
      event.preventDefault();
      const body = { via: newLink.elements.via.value };
      const slug = newLink.elements.slug.value.trim();
      const password = newLink.elements.password.value;
      const clicks = newLink.elements.max_clicks.value;
      const expires = newLink.elements.expires_in.value;
      if (slug) body.slug = slug;
      if (password) body.password = password;
      if (clicks) body.max_clicks = Number(clicks);
      if (expires) body.expires_in = Number(expires);
      api("POST", assetUrl + "/links", body).then(function (link) {
        addRow(link);
        show(link.short_url, "New link");
        say("share-status", "Link created: " + link.short_url);
        newLink.reset();
      }).catch(function (err) { say("share-status", "Could not create the link: " + err.message); });
    });
  }

  // edit, privacy, delete ----------------------------------------------------------------
  const edit = document.getElementById("edit");
  edit.addEventListener("submit", function (event) {
    event.preventDefault();
    const body = {
      title: edit.elements.title.value,
      tags: edit.elements.tags.value,
      description: edit.elements.description.value,
    };
    say("edit-status", "Saving…");
    api("PATCH", assetUrl, body).then(function (asset) {
      const title = asset.title || "A GIF on gifdist";
      say("asset-title", title);
      document.title = title + " · gifdist";
      const description = document.getElementById("asset-description");
      if (description) description.textContent = asset.description;
      say("edit-status", "Saved.");
    }).catch(function (err) { say("edit-status", "Not saved: " + err.message); });
  });

  document.getElementById("privacy").addEventListener("click", function () {
    const makePrivate = panel.dataset.private !== "true";
    api("PATCH", assetUrl, { private: makePrivate }).then(function () {
      window.location.reload();
    }).catch(function (err) { say("privacy-status", "Not changed: " + err.message); });
  });

  const start = document.getElementById("delete-start");
  const confirmBox = document.getElementById("delete-confirm");
  start.addEventListener("click", function () {
    confirmBox.hidden = false;
    start.setAttribute("aria-expanded", "true");
    document.getElementById("delete-no").focus();
  });
  document.getElementById("delete-no").addEventListener("click", function () {
    confirmBox.hidden = true;
    start.setAttribute("aria-expanded", "false");
    start.focus();
  });
  document.getElementById("delete-yes").addEventListener("click", function () {
    api("DELETE", assetUrl).then(function () {
      window.location.assign("/library");
    }).catch(function (err) { say("delete-status", "Not deleted: " + err.message); });
  });

  // moderation status, followed live ---------------------------------------------------
  const waiting = panel.dataset.status === "pending" || panel.dataset.status === "flagged";
  function poll() {
    api("GET", assetUrl).then(function (asset) {
      if (asset.status !== panel.dataset.status) { window.location.reload(); return; }
      setTimeout(poll, 3000);
    }, function () { setTimeout(poll, 10000); });
  }
  if (waiting) setTimeout(poll, 2000);
})();
