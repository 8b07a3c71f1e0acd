/* 今日行动: check-offs that survive a bad connection. A check-off form (data-checkoff) that gets no
   answer (offline, timeout) or a server error keeps the tap: the board shows "not saved" with a
   "try again" button that sends the same form again. Each form carries its own key, so a retry of a
   tap whose answer was lost counts once. A refusal (4xx) shows the server's reason instead. */
(function () {
  "use strict";
  var failed = null; // the form whose request did not come back

  function box() { return document.querySelector("#action-board [data-not-saved]"); }

  function show(form, reason, detail) {
    var el = box();
    if (!el) return;
    failed = form;
    el.querySelector("[data-offline-text]").hidden = reason !== "offline";
    var other = el.querySelector("[data-failed-text]");
    other.hidden = reason === "offline";
    if (!other.dataset.text) other.dataset.text = other.textContent;
    other.textContent = detail || other.dataset.text;
    el.querySelector("[data-retry]").hidden = reason === "refused";
    el.hidden = false;
  }

  function checkoff(event) {
    var form = event.detail && event.detail.elt;
    return form && form.closest && form.closest("form[data-checkoff]");
  }

  document.addEventListener("htmx:sendError", function (event) {
    var form = checkoff(event);
    if (form) show(form, "offline");
  });
  document.addEventListener("htmx:timeout", function (event) {
    var form = checkoff(event);
    if (form) show(form, "offline");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var form = checkoff(event);
    if (!form) return;
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.status < 500) {
      var detail = "";
      try { detail = JSON.parse(xhr.responseText).detail || ""; } catch (ignored) { detail = xhr.statusText; }
      show(form, "refused", detail);
    } else {
      show(form, "failed");
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#action-board [data-retry]");
    if (!button || !failed) return;
    box().hidden = true;
    var form = failed;
    failed = null;
    window.htmx.trigger(form, "submit");
  });
})();
