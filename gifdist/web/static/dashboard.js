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
