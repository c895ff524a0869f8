// Upload progress for the release page's upload form. The form works without this script; with
// it, the same request is sent by XMLHttpRequest so that the page can show how much is sent.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  if (!form || !bar || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.responseType = "document";
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = "Sent " + bar.value + "%";
      }
    });
    request.addEventListener("load", function () {
      var answered = request.responseURL || form.action;
      if (request.status === 200 && answered !== form.action) {
        // The upload was taken: go to the page it led to, as the form would have.
        window.location.assign(answered);
        return;
      }
      // A refusal: show the page that says why.
      if (request.response && request.response.documentElement) {
        document.replaceChild(document.importNode(request.response.documentElement, true), document.documentElement);
      } else {
        status.textContent = "The upload failed (" + request.status + ").";
        button.disabled = false;
      }
    });
    request.addEventListener("error", function () {
      status.textContent = "The upload could not be sent; try again.";
      bar.hidden = true;
      button.disabled = false;
    });
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "Sending";
    request.send(new FormData(form));
  });
})();
