// A job's page follows it: its progress is polled once a second (plain
// polling, no websockets) and the page reloads when the job has finished,
// to show the result.
(function () {
  var box = document.getElementById("job");
  if (!box || !/^(queued|running)$/.test(box.dataset.status)) { return; }
  var bar = box.querySelector("[data-job-bar]");
  var text = box.querySelector("[data-job-text]");
  var status = box.querySelector("[data-job-status]");

  function poll() {
    fetch(box.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { return setTimeout(poll, 2000); }
        if (job.finished) { window.location.reload(); return; }
        if (bar) { bar.value = job.percent; bar.textContent = job.percent + "%"; }
        if (text && job.total) { text.textContent = job.done + " / " + job.total + " (" + job.percent + "%)"; }
        if (status) { status.textContent = job.status_display; }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 500);
})();
