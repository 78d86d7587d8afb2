// "Copy link" buttons: any button with data-copy copies that text and says so.
// Without a clipboard API the buttons stay hidden (the link is on the page anyway).
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    const label = button.textContent;
    const status = button.parentElement.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
        if (status) status.textContent = "Link copied to the clipboard.";
        setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
          if (status) status.textContent = "";
        }, 2500);
      }, function () {
        if (status) status.textContent = "Could not copy: select the link below and copy it.";
      });
    });
  });
})();
