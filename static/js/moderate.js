// Progressive enhancement of the moderation queue: a "select all on this page" checkbox for bulk actions.
// Without JavaScript every row still has its own checkbox and buttons.
(function () {
  "use strict";
  var form = document.getElementById("moderation-form");
  var queue = form && form.querySelector("ol.queue");
  if (!queue) { return; }
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="statement_id"]'));
  if (boxes.length < 2) { return; }
  var wrap = document.createElement("div");
  wrap.className = "check";
  var all = document.createElement("input");
  all.type = "checkbox";
  all.id = "select-all";
  var label = document.createElement("label");
  label.htmlFor = "select-all";
  label.textContent = form.getAttribute("data-select-all");
  wrap.appendChild(all);
  wrap.appendChild(label);
  queue.parentNode.insertBefore(wrap, queue);
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = boxes.every(function (b) { return b.checked; });
    });
  });
})();
