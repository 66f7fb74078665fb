/* Autosave for assessment attempts: each change is sent to the server at once.
   The page works without this script (the "Save answers" button does the same).
   Every save carries a sequence number that only grows, so the server can refuse
   a save that arrives after a newer one for the same question. */
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = document.getElementById("save-status");
  var saveUrl = form.getAttribute("data-save-url");
  var base = parseInt(form.getAttribute("data-sequence"), 10);
  var started = Date.now();
  var last = base;
  var pending = {};   // question id -> true while a change is not yet acknowledged
  var timers = {};
  var retryDelay = 1000;

  function nextSequence() {
    // Server-clock based: the page's sequence plus the time elapsed since it loaded.
    last = Math.max(last + 1, base + (Date.now() - started));
    return last;
  }

  var stopped = false;  // signed out: saving cannot succeed until the officer signs in

  function message(name, values) {
    // The page's own translated text (data-* on the form), with {placeholders} filled.
    var text = form.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }

  function say(text) { if (status) { status.textContent = text; } }

  function hasAnswer(fieldset) {
    return Array.prototype.some.call(fieldset.querySelectorAll("input, select, textarea"), function (field) {
      if (!field.name || field.type === "hidden") { return false; }
      if (field.type === "radio" || field.type === "checkbox") { return field.checked; }
      return field.value.trim() !== "";
    });
  }

  function showProgress() {
    // The navigator and count follow the answers as they are given, not only on reload.
    var fieldsets = form.querySelectorAll("fieldset[data-question]");
    var answered = 0;
    Array.prototype.forEach.call(fieldsets, function (fieldset) {
      var done = hasAnswer(fieldset);
      if (done) { answered += 1; }
      var link = document.querySelector('.question-nav a[href="#' + fieldset.id + '"]');
      if (!link) { return; }
      link.classList.toggle("answered", done);
      var mark = link.querySelector(".visually-hidden:last-child");
      if (mark) { mark.textContent = " " + message(done ? "mark-answered" : "mark-unanswered"); }
    });
    var count = document.getElementById("answered-count");
    if (count) { count.textContent = message("answered", { n: answered, total: fieldsets.length }); }
  }

  function fieldsetOf(element) {
    while (element && element !== form) {
      if (element.tagName === "FIELDSET" && element.hasAttribute("data-question")) { return element; }
      element = element.parentNode;
    }
    return null;
  }

  function send(fieldset) {
    var id = fieldset.getAttribute("data-question");
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("sequence", String(nextSequence()));
    Array.prototype.forEach.call(fieldset.querySelectorAll("input, select, textarea"), function (field) {
      if (!field.name) { return; }
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) { return; }
      data.append(field.name, field.value);
    });
    pending[id] = true;
    say(message("saving"));
    fetch(saveUrl, { method: "POST", body: data, credentials: "same-origin",
                     headers: { "Accept": "application/json" } })
      .then(function (response) {
        // A reply that is not JSON (a proxy's error page) is an answer, not a lost connection.
        return response.json().then(function (body) { return { status: response.status, body: body }; },
                                    function () { return { status: response.status, body: {} }; });
      }, function () { return null; })
      .then(function (result) {
        if (result === null) {
          // Offline or the server did not answer: try again, keeping the newest answer.
          say(message("offline"));
          schedule(fieldset, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 30000);
        } else if (result.status === 200) {
          delete pending[id];
          retryDelay = 1000;
          if (!Object.keys(pending).length) {
            var time = new Date().toLocaleTimeString(document.documentElement.lang || [],
                                                     { hour: "2-digit", minute: "2-digit" });
            say(message("saved", { time: time }));
          }
        } else if (result.status === 410 && result.body.result_url) {
          window.location.assign(result.body.result_url);
        } else if (result.status === 400 && result.body.questions) {
          delete pending[id];
          say(result.body.questions[id] || message("check-answer"));
        } else if (result.body.signed_out) {
          // Retrying cannot help: say so once, where it is seen, and stop. The page's own
          // text is in the officer's language; the server no longer knows who asks.
          stopped = true;
          pending = {};
          say(message("signed-out") || result.body.error);
        } else {
          delete pending[id];
          say(result.body.error || message("not-saved"));
        }
      });
  }

  function schedule(fieldset, delay) {
    if (stopped) { return; }
    var id = fieldset.getAttribute("data-question");
    pending[id] = true;
    clearTimeout(timers[id]);
    timers[id] = setTimeout(function () { send(fieldset); }, delay);
  }

  form.addEventListener("change", function (event) {
    var fieldset = fieldsetOf(event.target);
    if (fieldset) { schedule(fieldset, 0); showProgress(); }
  });
  form.addEventListener("input", function (event) {
    var fieldset = fieldsetOf(event.target);
    if (fieldset && event.target.type === "text") { schedule(fieldset, 700); showProgress(); }
  });
  form.addEventListener("submit", function () {
    // What the form holds now is the newest answer: give it the newest sequence.
    form.elements.sequence.value = String(nextSequence());
    pending = {};
  });
  window.addEventListener("online", function () {
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-question]"), function (fieldset) {
      if (pending[fieldset.getAttribute("data-question")]) { schedule(fieldset, 0); }
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (Object.keys(pending).length) { event.preventDefault(); event.returnValue = ""; }
  });

  var deadline = document.getElementById("deadline");
  if (deadline) {
    var end = Date.now() + 1000 * parseInt(deadline.getAttribute("data-seconds-left"), 10);
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 60000));
      deadline.textContent = left > 0 ? message("time-left", { n: left }) : message("time-up");
      if (left <= 0) { form.submit(); return; }
      setTimeout(tick, 15000);
    };
    tick();
  }
})();
