/* Newsletters pages (membership/console/newsletters.py), progressively enhanced:
   - compose: the preview follows the Markdown as it is typed (the server renders it, the
     same sanitised HTML the campaign will carry) and the recipient count follows the
     segment fields;
   - a campaign: the progress bar and counts follow the send, polling the progress
     endpoint every second while it sends; the page reloads when the status changes.
   Without this script the pages still show all of it, server-rendered. */
(function () {
  "use strict";

  function number(n) { return Number(n).toLocaleString("en-US"); }

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function post(url, form, names) {
    var body = new FormData();
    names.concat(["csrf_token"]).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) { body.append(name, field.value); }
    });
    return fetch(url, {method: "POST", body: body, credentials: "same-origin",
                       headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); });
  }

  function compose(form) {
    var body = form.elements.namedItem("body");
    var subject = form.elements.namedItem("subject");
    var segment = form.elements.namedItem("segment");
    var preview = document.getElementById("preview");
    var shownSubject = document.getElementById("preview-subject");
    var count = document.getElementById("recipient-count");
    var note = document.getElementById("preview-note");
    var lastBody = preview.innerHTML.trim() ? body.value : null;

    var refreshPreview = debounce(function () {
      var text = body.value;
      if (text === lastBody) { return; }
      lastBody = text;
      post(form.dataset.previewUrl, form, ["body"]).then(function (r) {
        if (r.ok && body.value === text) {
          preview.innerHTML = r.data.html;
          note.textContent = "How the body reads in the mail (updates as you type).";
        }
      }).catch(function () { note.textContent = "The preview could not be updated; press “Preview and count”."; });
    }, 250);

    function showSegmentFields() {
      document.querySelectorAll(".seg-extra").forEach(function (el) { el.hidden = el.dataset.for !== segment.value; });
    }

    var refreshCount = debounce(function () {
      count.textContent = "counting…";
      post(form.dataset.countUrl, form, ["newsletter_id", "segment", "plan_id", "label"]).then(function (r) {
        count.textContent = r.ok
          ? number(r.data.count) + " confirmed subscriber" + (r.data.count === 1 ? "" : "s")
          : r.data.error;
      }).catch(function () { count.textContent = "could not count; press “Preview and count”"; });
    }, 300);

    body.addEventListener("input", refreshPreview);
    subject.addEventListener("input", function () { shownSubject.textContent = subject.value || "(no subject yet)"; });
    ["newsletter_id", "segment", "plan_id"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) { field.addEventListener("change", function () { showSegmentFields(); refreshCount(); }); }
    });
    form.elements.namedItem("label").addEventListener("input", refreshCount);
    showSegmentFields();
    refreshCount();
    if (body.value.trim()) { refreshPreview(); }
  }

  function follow(panel) {
    var status = panel.dataset.status;
    // Every second while it sends or is about to start; a campaign due later, or paused, is not watched as closely.
    var interval = status === "sending" || panel.dataset.due === "true" ? 1000 : 15000;
    var bar = document.getElementById("campaign-progress");
    var doneText = document.getElementById("done-text");

    function show(d) {
      if (bar) { bar.max = d.total || 1; bar.value = d.done; bar.textContent = d.done + " of " + d.total; }
      if (doneText) { doneText.textContent = number(d.done) + " of " + number(d.total); }
      ["sent", "failed", "bounced", "unsubscribed", "skipped", "pending"].forEach(function (key) {
        var el = document.getElementById("count-" + key);
        if (el) { el.textContent = number(d[key]); }
      });
    }

    function next(ms) { setTimeout(tick, ms); }

    function tick() {
      fetch(panel.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (!d) { next(5000); return; }
          if (d.status !== status) { window.location.reload(); return; }
          show(d);
          next(interval);
        })
        .catch(function () { next(5000); });
    }

    next(interval);
  }

  var form = document.getElementById("compose");
  if (form) { compose(form); }
  var panel = document.getElementById("progress-panel");
  if (panel && ["scheduled", "sending", "paused"].indexOf(panel.dataset.status) !== -1) { follow(panel); }
}());
