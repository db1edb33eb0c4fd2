// Progressive enhancement for the voting page: keyboard shortcuts A / D / P press the real buttons.
// Without this script the page works exactly the same with Tab and Enter.
(function () {
  "use strict";
  var form = document.getElementById("vote-form");
  if (!form) { return; }
  var keys = { a: "agree", d: "disagree", p: "pass" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var value = keys[event.key.toLowerCase()];
    if (!value) { return; }
    var button = form.querySelector('button[value="' + value + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
