// askscope coding page: keyboard shortcuts (progressive: the form works without them).
// A label's key (1-9, 0) checks its radio button and saves; n skips to the next post, p goes back;
// in the note, Ctrl+Enter (or Cmd+Enter) saves. Keys typed in a text field are left to the field.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("coding-form");
  if (!form) return;
  var saving = false;
  function save() {
    if (saving) return;
    saving = true;
    form.submit();
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio"));
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        save();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var choice = form.querySelector('input[type="radio"][data-key="' + CSS.escape(event.key) + '"]');
    if (choice) {
      event.preventDefault();
      choice.checked = true;
      save();
      return;
    }
    var link = null;
    if (event.key === "n") link = document.getElementById("next");
    if (event.key === "p") link = document.getElementById("previous");
    if (link) {
      event.preventDefault();
      window.location.assign(link.href);
    }
  });
});
