// Selects marked data-autosubmit submit their form when changed (the
// language and shop switches). Served as a file: the Content-Security-Policy
// allows no inline script. Without script, the switch's button does the same.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
    target.form.submit();
  }
});
