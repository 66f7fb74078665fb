/* The draft editor: a debounced server check (problems with line numbers and the preview
   from the same renderer officers get) and autosave with the draft's revision. The page
   works without this script: Save and Check are ordinary form buttons. A stale autosave
   is refused by the server (409); the script then stops saving and asks for the button,
   which shows the differences and keeps the text. */
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var text = form.elements.text;
  var status = document.getElementById("save-status");
  var problems = document.getElementById("problems");
  var preview = document.getElementById("preview");
  var checkTimer = null, saveTimer = null, stopped = text.readOnly;

  function label(name) { return form.getAttribute("data-" + name) || name; }

  function say(message) { if (status) { status.textContent = message; } }

  function post(url) {
    var data = new FormData();
    ["csrf_token", "path", "revision", "base", "text"].forEach(function (name) {
      if (form.elements[name]) { data.append(name, form.elements[name].value); }
    });
    return fetch(url, { method: "POST", body: data, credentials: "same-origin",
                        headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      });
  }

  function showProblems(list) {
    while (problems.firstChild) { problems.removeChild(problems.firstChild); }
    list.forEach(function (problem) {
      var item = document.createElement("li");
      item.className = "problem-" + problem.severity;
      var code = document.createElement("code");
      code.textContent = label("line") + " " + problem.line;
      item.appendChild(code);
      var severity = document.createElement("strong");
      severity.textContent = label(problem.severity === "warning" ? "warning" : "error");
      item.appendChild(document.createTextNode(" "));
      item.appendChild(severity);
      item.appendChild(document.createTextNode(": " + problem.message));
      problems.appendChild(item);
    });
    if (!list.length) {
      var none = document.createElement("li");
      none.className = "problem-none";
      none.textContent = label("none");
      problems.appendChild(none);
    }
  }

  function check() {
    post(form.getAttribute("data-check-url")).then(function (result) {
      if (result.status !== 200) { return; }
      showProblems(result.body.problems);
      if (preview && result.body.preview !== null) {
        preview.innerHTML = result.body.preview;  // sanitised by the server (nh3)
      }
    });
  }

  function save() {
    if (stopped) { return; }
    post(form.getAttribute("action")).then(function (result) {
      if (result.status === 200) {
        form.elements.revision.value = result.body.revision;
        form.elements.base.value = result.body.base;
        say((form.getAttribute("data-saved") || "Saved") + " " +
            new Date().toLocaleTimeString(document.documentElement.lang || [],
                                          { hour: "2-digit", minute: "2-digit" }));
      } else if (result.status === 409) {
        stopped = true;
        say(form.getAttribute("data-conflict"));
      }
    });
  }

  form.addEventListener("submit", function () {
    // Save or Check by the button: an autosave still waiting would reach the server after
    // it with the old revision and be refused as a conflict.
    clearTimeout(checkTimer);
    clearTimeout(saveTimer);
    stopped = true;
  });

  text.addEventListener("input", function () {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 600);
    clearTimeout(saveTimer);
    saveTimer = setTimeout(save, 3000);
  });
}());
