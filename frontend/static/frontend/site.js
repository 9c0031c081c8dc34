/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // Live filtering on /models: re-render the result list as filters change.
  var form = document.querySelector("[data-live-filter]");
  if (form && window.fetch && window.URLSearchParams) {
    var timer = null;
    var pending = null;
    var refresh = function () {
      var params = new URLSearchParams(new FormData(form));
      Array.from(params.keys()).forEach(function (k) { if (!params.get(k)) params.delete(k); });
      var url = form.action + (params.toString() ? "?" + params.toString() : "");
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(url, { headers: { "X-Partial": "results" }, signal: pending.signal, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var current = document.getElementById("results");
          if (current) current.outerHTML = html;
          history.replaceState(null, "", url);
          // Say the new count from a status line that outlives the swap: a live region that is
          // itself replaced is not announced, and the whole list would be too much to read.
          var status = document.getElementById("results-status");
          var count = document.querySelector("#results .result-count");
          if (status && count) status.textContent = count.textContent;
        })
        .catch(function () { /* keep the current results; a submit still works */ });
    };
    var schedule = function (delay) { clearTimeout(timer); timer = setTimeout(refresh, delay); };
    form.addEventListener("input", function (e) { schedule(e.target.type === "search" ? 250 : 150); });
    form.addEventListener("change", function () { schedule(0); });
  }

  // "Select all" checkbox of the violation queue.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-select-all");
      box.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) { c.checked = box.checked; });
    });
  });

  // Copy buttons (new token).
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy-target"));
      input.select();
      if (navigator.clipboard) navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    });
  });

  // Dashboard: poll the mirror-run table while a run is going.
  var runs = document.getElementById("mirror-runs");
  if (runs && window.fetch) {
    var poll = function () {
      var inner = runs.querySelector("[data-running]");
      if (!inner || inner.getAttribute("data-running") !== "1") return;
      fetch(runs.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) { runs.innerHTML = html; setTimeout(poll, 3000); })
        .catch(function () { setTimeout(poll, 10000); });
    };
    setTimeout(poll, 3000);
  }

  // Lineage graph: highlight the edges touching the focused or hovered node.
  document.querySelectorAll("[data-lineage]").forEach(function (graph) {
    var mark = function (ref, on) {
      graph.querySelectorAll('[data-ref="' + CSS.escape(ref) + '"]').forEach(function (n) { n.classList.toggle("highlight", on); });
    };
    graph.querySelectorAll("[data-ref]").forEach(function (node) {
      var ref = node.getAttribute("data-ref");
      ["mouseenter", "focus"].forEach(function (ev) { node.addEventListener(ev, function () { mark(ref, true); }); });
      ["mouseleave", "blur"].forEach(function (ev) { node.addEventListener(ev, function () { mark(ref, false); }); });
    });
  });
})();
