// report.html's filters; inlined by html.py. Without this script every requirement is shown.
// It only hides and shows elements and sets text: it never builds markup from the report.
(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll(".req"));
  var areas = Array.prototype.slice.call(document.querySelectorAll(".area"));
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  var noMatch = document.getElementById("no-match");
  var state = { status: "all", level: "all", text: "" };
  // Lower-cased once: a search must stay quick on a report of several megabytes.
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });

  function matches(row, i) {
    return (state.status === "all" || row.getAttribute("data-status") === state.status) &&
      (state.level === "all" || row.getAttribute("data-level") === state.level) &&
      (state.text === "" || texts[i].indexOf(state.text) !== -1);
  }

  function apply() {
    var count = 0;
    rows.forEach(function (row, i) {
      var ok = matches(row, i);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    areas.forEach(function (area) {
      area.hidden = area.querySelector(".req:not([hidden])") === null;
    });
    shown.textContent = count === rows.length
      ? "all " + rows.length + " shown"
      : count + " of " + rows.length + " shown";
    noMatch.hidden = count !== 0;
  }

  function press(group, value) {
    state[group] = value;
    bar.querySelectorAll('button[data-group="' + group + '"]').forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-value") === value));
    });
  }

  bar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-group]");
    if (!button) { return; }
    press(button.getAttribute("data-group"), button.getAttribute("data-value"));
    apply();
  });
  search.addEventListener("input", function () {
    state.text = search.value.trim().toLowerCase();
    apply();
  });

  // A link to report.html#req-ID (from compare.html, say) shows that requirement even when a
  // filter hid it, and opens its first finding.
  function reveal() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target || !target.classList.contains("req")) { return; }
    if (target.hidden) {
      press("status", "all");
      press("level", "all");
      search.value = "";
      state.text = "";
      apply();
    }
    var finding = target.querySelector("details.finding");
    if (finding) { finding.open = true; }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);

  bar.hidden = false;
  apply();
  reveal();
})();
