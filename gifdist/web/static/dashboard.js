// Dashboard: typing a from/to time picks the "Custom" range (the form works without this).
(function () {
  "use strict";
  const custom = document.querySelector("input[name=range][value=custom]");
  if (!custom) return;
  ["from", "to"].forEach(function (id) {
    const field = document.getElementById(id);
    if (field) field.addEventListener("input", function () { if (field.value) custom.checked = true; });
  });
})();
// Dashboard: "Create link" makes a share link for the GIF shown, then reloads the table.
(function () {
  "use strict";
  const form = document.getElementById("create-link");
  if (!form) return;
  const status = document.getElementById("create-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch("/api/v1/assets/" + encodeURIComponent(form.dataset.asset) + "/links", {
      method: "POST",
      headers: { "X-CSRF-Token": form.dataset.csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ via: form.elements.via.value }),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data && data.error ? data.error.message : String(response.status));
        status.textContent = "Created " + data.short_url;
        window.location.reload();
      });
    }).catch(function (err) { status.textContent = "Could not create the link: " + err.message; });
  });
})();
