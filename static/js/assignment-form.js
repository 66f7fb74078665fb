// Show the "N months" field only when the repeat choice uses it. Without this script
// the field stays visible, with a hint saying when it applies.
(function () {
  "use strict";
  document.querySelectorAll("form.assignment-form").forEach(function (form) {
    var choice = form.querySelector("select[name=recurrence]");
    var field = form.querySelector("#every-months-field");
    if (!choice || !field) { return; }
    function update() { field.hidden = choice.value !== "months"; }
    choice.addEventListener("change", update);
    update();
  });
}());
