// The "preview the effect" button shows that the replay is running (it can
// take seconds on a large year); "back to the form" keeps what was typed.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-preview]");
  if (button) {
    var note = document.getElementById("preview-progress");
    if (note) { note.hidden = false; }
  }
  var back = event.target.closest("[data-back]");
  if (back && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
