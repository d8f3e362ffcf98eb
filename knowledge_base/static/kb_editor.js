// Live preview and picture upload for the knowledge-base editor. The server renders and
// sanitizes the Markdown (the same function as the article page); this only shows the result.
(function () {
  "use strict";
  var form = document.getElementById("kb-editor");
  if (!form) { return; }
  var source = document.getElementById("body_md");
  var preview = document.getElementById("kb-preview");
  var status = document.getElementById("kb-preview-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var sequence = 0;

  function post(url, body, done) {
    var request = new XMLHttpRequest();
    request.open("POST", url);
    request.setRequestHeader("X-CSRFToken", token);
    request.onload = function () {
      var data = {};
      try { data = JSON.parse(request.responseText); } catch (e) { data = {}; }
      done(request.status, data);
    };
    request.onerror = function () { done(0, {}); };
    request.send(body);
  }

  function refresh() {
    var mine = ++sequence;
    var body = new FormData();
    body.append("body_md", source.value);
    post(form.dataset.previewUrl, body, function (code, data) {
      if (mine !== sequence) { return; }
      if (code === 200 && typeof data.html === "string") {
        preview.innerHTML = data.html;  // sanitized on the server by render_markdown
        status.textContent = "";
      } else {
        status.textContent = data.error || ("HTTP " + code);
      }
    });
  }

  source.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
  refresh();

  var picker = document.getElementById("kb-image");
  var pickerStatus = document.getElementById("kb-image-status");
  picker.addEventListener("change", function () {
    if (!picker.files.length) { return; }
    var body = new FormData();
    body.append("image", picker.files[0]);
    pickerStatus.textContent = "…";
    post(form.dataset.uploadUrl, body, function (code, data) {
      if (code === 201 && data.markdown) {
        var at = source.selectionStart || source.value.length;
        source.value = source.value.slice(0, at) + "\n" + data.markdown + "\n" + source.value.slice(at);
        pickerStatus.textContent = "";
        picker.value = "";
        refresh();
      } else {
        pickerStatus.textContent = data.error || ("HTTP " + code);
      }
    });
  });
}());
