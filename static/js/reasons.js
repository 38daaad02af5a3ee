// Reason templates (SPEC §14): the chosen template's text goes into the
// reason — appended when something is written already — and its decision is
// chosen; the reviewer edits the text before sending.
(function () {
  var picker = document.getElementById("reason-template");
  if (!picker) { return; }
  picker.addEventListener("change", function () {
    var option = picker.options[picker.selectedIndex];
    var target = document.getElementById(picker.dataset.target);
    if (!option || !option.value || !target) { return; }
    var text = option.dataset.text;
    target.value = target.value.trim() ? target.value.trim() + "\n" + text : text;
    var decision = document.querySelector("input[name=decision][value=" + option.dataset.decision + "]");
    if (decision) { decision.checked = true; }
    target.focus();
    picker.selectedIndex = 0;
  });
})();
