// While a reviewer keeps an item they hold open, its claim is renewed every
// five minutes (SPEC §14: the lease runs while the page is open).
(function () {
  var box = document.getElementById("claim");
  if (!box || !box.dataset.renewUrl) { return; }
  var token = box.querySelector("input[name=csrfmiddlewaretoken]");
  function renew() {
    var body = new FormData();
    body.append("op", "renew");
    fetch(box.dataset.renewUrl, {method: "POST", credentials: "same-origin", body: body,
                                 headers: {"X-CSRFToken": token ? token.value : ""}})
      .then(function (response) { if (response.status === 204) { setTimeout(renew, 300000); } })
      .catch(function () { setTimeout(renew, 60000); });
  }
  setTimeout(renew, 300000);
})();
