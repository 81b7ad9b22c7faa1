// MemoryRelay dashboard: the only script, loaded from the dashboard's own
// origin (the Content-Security-Policy allows nothing else). Everything
// works without it; it adds the copy button of a new key.
"use strict";
(function () {
  function say(text) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = text; }
  }
  function fallback(input) {
    input.focus();
    input.select();
    try {
      if (document.execCommand("copy")) { say("Copied to the clipboard."); return; }
    } catch (e) { /* fall through */ }
    say("Press Ctrl+C (or ⌘C) to copy the selected key.");
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () { say("Copied to the clipboard."); },
          function () { fallback(input); });
      } else {
        fallback(input);
      }
    });
  });
  // Select the whole key when its field gets focus, for a manual copy.
  document.querySelectorAll("input[data-secret]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
