// A batch screening job's page: while the job runs, ask for its progress every second and
// move the bar; reload once it is done to show the results. Without script the page
// still shows where the job stood when it was loaded.
(function () {
  "use strict";
  var box = document.querySelector(".job-progress");
  if (!box || box.dataset.status === "done" || box.dataset.status === "failed") return;
  var bar = box.querySelector("progress");
  var count = box.querySelector(".job-count");
  function poll() {
    fetch(box.dataset.progressUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        bar.max = p.total;
        bar.value = p.done;
        count.textContent = p.done + " of " + p.total;
        if (p.status === "done" || p.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
