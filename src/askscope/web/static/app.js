// askscope web app: progressive enhancement only (every page works without it).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // selects marked .autosubmit submit their form when changed (the store picker, sort order)
  document.querySelectorAll("select.autosubmit").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  });
  // buttons marked data-copy copy the page's URL (a shareable filter)
  document.querySelectorAll("[data-copy-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (navigator.clipboard) navigator.clipboard.writeText(window.location.href);
      button.textContent = "Link copied";
    });
  });
});
