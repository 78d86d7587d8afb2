// The visitor's Report button on an asset page: an optional reason, sent to the reports API.
(function () {
  "use strict";
  const start = document.getElementById("report-start");
  const form = document.getElementById("report-form");
  const status = document.getElementById("report-status");
  if (!start || !form) return;
  start.addEventListener("click", function () {
    form.hidden = !form.hidden;
    start.setAttribute("aria-expanded", form.hidden ? "false" : "true");
    if (!form.hidden) document.getElementById("report-reason").focus();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const reason = form.elements.reason.value.trim();
    fetch("/api/v1/assets/" + encodeURIComponent(start.dataset.asset) + "/report", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(reason ? { reason: reason } : {}),
      credentials: "omit",
    }).then(function (response) {
      if (response.status === 202) {
        form.hidden = true;
        start.hidden = true;
        status.textContent = "Thank you: a moderator will look at this GIF.";
        return;
      }
      return response.json().then(function (data) {
        status.textContent = "The report was not sent: " + (data && data.error ? data.error.message : response.status);
      });
    }).catch(function () { status.textContent = "The report was not sent: the connection failed."; });
  });
})();
