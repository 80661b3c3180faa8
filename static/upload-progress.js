// Attachment uploads show their progress. Without this script the form posts as usual.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("upload-form")) {
    return;
  }
  event.preventDefault();
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  const status = document.createElement("span");
  status.setAttribute("role", "status");
  form.append(progress, status);
  form.querySelector("button[type=submit]").disabled = true;

  const request = new XMLHttpRequest();
  request.open("POST", form.action);
  request.upload.addEventListener("progress", (step) => {
    if (step.lengthComputable) {
      progress.value = Math.round((step.loaded / step.total) * 100);
      status.textContent = ` ${progress.value}% sent`;
    }
  });
  // The server answers with a redirect to the page to show (or an error page): go there.
  request.addEventListener("load", () => {
    if (request.status < 400 && request.responseURL) {
      window.location.assign(request.responseURL);
    } else {
      document.open();
      document.write(request.responseText);
      document.close();
    }
  });
  request.addEventListener("error", () => {
    status.textContent = " The upload failed: check your connection and try again.";
    form.querySelector("button[type=submit]").disabled = false;
  });
  request.send(new FormData(form));
});
