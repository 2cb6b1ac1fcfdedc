// autoreplyd console: keyboard keys on the inbox (j/k move, a/r/d act) and
// the live feed (server-sent events). No library; text is set with
// textContent, never as markup.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  inbox();
  live();
});

function inbox() {
  var table = document.getElementById("inbox");
  if (!table) return;
  var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr.item"));
  if (!rows.length) return;
  var at = 0;
  function select(i) {
    rows[at].classList.remove("selected");
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows[at].classList.add("selected");
    rows[at].scrollIntoView({ block: "nearest" });
  }
  rows.forEach(function (row, i) {
    row.addEventListener("click", function () { select(i); });
  });
  select(0);
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT")) return;
    var row = rows[at];
    var form = null;
    switch (e.key) {
      case "j": select(at + 1); break;
      case "k": select(at - 1); break;
      case "a": form = row.querySelector("form.approve"); break;
      case "r": form = row.querySelector("form.reject"); break;
      case "d": form = row.querySelector("form.done"); break;
      default: return;
    }
    e.preventDefault();
    if (form) form.querySelector("button[name=action]").click();
  });
}

function live() {
  var table = document.getElementById("live");
  if (!table || !window.EventSource) return;
  var body = table.querySelector("tbody");
  var filters = document.getElementById("live-filters");
  var empty = document.getElementById("live-empty");
  function wanted(d) {
    var ok = true;
    ["platform", "rule", "status"].forEach(function (k) {
      var v = filters.elements[k].value;
      if (v && d[k] !== v) ok = false;
    });
    return ok;
  }
  function apply() {
    body.querySelectorAll("tr").forEach(function (tr) {
      tr.hidden = !wanted({ platform: tr.dataset.platform, rule: tr.dataset.rule, status: tr.dataset.status });
    });
  }
  filters.addEventListener("change", apply);
  var src = new EventSource("/ui/live/events");
  src.addEventListener("decision", function (ev) {
    var d = JSON.parse(ev.data);
    var tr = document.createElement("tr");
    tr.dataset.platform = d.platform;
    tr.dataset.rule = d.rule;
    tr.dataset.status = d.status;
    [d.time, d.platform, d.rule, d.status + (d.reason ? " (" + d.reason + ")" : ""), d.user, d.comment, d.reply].forEach(function (v, i) {
      var td = document.createElement("td");
      if (i === 5 && d.verdict && d.verdict.indexOf("/ui/playground?") === 0) {
        // The comment opens in the playground: each rule's verdict on it.
        var a = document.createElement("a");
        a.href = d.verdict;
        a.textContent = v;
        td.appendChild(a);
      } else {
        td.textContent = v;
      }
      tr.appendChild(td);
    });
    tr.hidden = !wanted(d);
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
    if (empty) empty.hidden = true;
  });
}
