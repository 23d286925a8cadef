(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("evalkit-data").textContent);

  // The language and document selectors (runs over several languages or documents): elements marked
  // data-lang (and data-document) outside the matrices are shown for the chosen language (and document) only;
  // the matrices mark the chosen language's column. Document "" is the whole language.
  var scope = {lang: null, doc: ""};
  var onScope = [];
  function inScope(el) {
    if (scope.lang === null) return true;
    var lang = el.getAttribute("data-lang");
    if (lang !== null && lang !== scope.lang) return false;
    var doc = el.getAttribute("data-document");
    return !scope.doc || doc === null || doc === scope.doc;
  }
  (function setupScope() {
    var langSel = document.getElementById("lang-select"), docSel = document.getElementById("doc-select");
    if (!data.multi || !data.langs.length || !langSel || !docSel) return;
    var byCode = {};
    data.langs.forEach(function (l) {
      byCode[l.code] = l;
      langSel.appendChild(new Option(l.name + " (" + l.code + ")", l.code));
    });
    function fillDocuments() {
      var docs = byCode[langSel.value].documents;
      while (docSel.options.length) docSel.remove(0);
      docSel.appendChild(new Option("all " + docs.length + " document" + (docs.length === 1 ? "" : "s"), ""));
      docs.forEach(function (d) { docSel.appendChild(new Option(d, d)); });
      docSel.value = "";
    }
    var scoped = Array.prototype.slice.call(document.querySelectorAll(".scoped"));
    var columns = Array.prototype.slice.call(document.querySelectorAll(".matrix [data-lang], .languages [data-lang]"));
    function apply() {
      scope = {lang: langSel.value, doc: docSel.value};
      scoped.forEach(function (el) { el.hidden = !inScope(el); });
      columns.forEach(function (el) { el.classList.toggle("sel", el.getAttribute("data-lang") === scope.lang); });
      onScope.forEach(function (f) { f(); });
    }
    langSel.addEventListener("change", function () { fillDocuments(); apply(); });
    docSel.addEventListener("change", apply);
    // A matrix column header picks its language; a document's name in the documents tables picks that document.
    function pick(lang, doc) {
      if (!byCode[lang]) return;
      if (langSel.value !== lang) { langSel.value = lang; fillDocuments(); }
      if (doc !== undefined && byCode[lang].documents.indexOf(doc) >= 0) docSel.value = doc;
      apply();
    }
    Array.prototype.slice.call(document.querySelectorAll(".matrix thead th[data-lang], .documents th.doc")).forEach(function (el) {
      var row = el.closest("[data-document]");
      var lang = (row || el).getAttribute("data-lang"), doc = row ? row.getAttribute("data-document") : undefined;
      if (!byCode[lang] || (doc !== undefined && byCode[lang].documents.indexOf(doc) < 0)) return;
      el.classList.add("pick");
      el.tabIndex = 0;
      el.title = doc !== undefined ? "show this document's paragraphs" : "show this language";
      el.addEventListener("click", function () { pick(lang, doc); });
      el.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(lang, doc); }
      });
    });
    fillDocuments();
    apply();
    document.getElementById("scope").hidden = false;
  })();

  var table = document.getElementById("paragraph-table");
  if (!table || !data.systems.length) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var headRows = table.tHead.rows;
  var $ = function (id) { return document.getElementById(id); };
  var sysA = $("sys-a"), sysB = $("sys-b"), metricSel = $("metric"), filter = $("filter"), count = $("count");
  var metrics = data.metrics;

  data.systems.forEach(function (name, i) {
    sysA.appendChild(new Option(name, String(i)));
    sysB.appendChild(new Option(name, String(i)));
  });
  metrics.forEach(function (m, j) { metricSel.appendChild(new Option(m.name, String(j))); });
  var base = data.systems.indexOf(data.baseline);
  sysB.value = String(base >= 0 ? base : 0);
  sysA.value = String(data.systems.length > 1 && (base === 0 || base < 0) ? 1 : 0);

  // The difference column: created here, so the page without script has no empty column.
  var deltaHead = document.createElement("th");
  deltaHead.rowSpan = 2;
  deltaHead.className = "num";
  deltaHead.setAttribute("data-sort", "delta");
  headRows[0].appendChild(deltaHead);
  var deltaCells = rows.map(function (row) {
    var td = document.createElement("td");
    td.className = "num";
    row.appendChild(td);
    return td;
  });

  function score(r, i, j) {
    var v = data.scores[i][j][r];
    return v === null || v === undefined ? null : v;
  }
  function delta(r) {
    var a = score(r, +sysA.value, +metricSel.value), b = score(r, +sysB.value, +metricSel.value);
    return a === null || b === null ? null : a - b;
  }
  function value(row, key) {
    var r = +row.getAttribute("data-r");
    if (key === "idx") return r;
    if (key === "conf") return data.confidence[r];
    if (key === "delta") return delta(r);
    var parts = key.split(":");
    return score(r, +parts[1], +parts[2]);
  }
  function updateDelta() {
    var m = metrics[+metricSel.value];
    deltaHead.textContent = "Δ " + data.systems[+sysA.value] + " − " + data.systems[+sysB.value] + " (" + m.name + ")";
    rows.forEach(function (row, k) {
      var d = delta(+row.getAttribute("data-r"));
      var td = deltaCells[k];
      td.textContent = d === null ? "" : (d > 0 ? "+" : "") + d.toFixed(2);
      td.style.background = d === null || d === 0 ? "" : ((d > 0) === m.higher_is_better ? "#d7f0dc" : "#f6d6d3");
    });
  }

  var sortable = Array.prototype.slice.call(table.querySelectorAll("th[data-sort]"));
  var current = {key: "idx", dir: 1};
  function sortBy(key, dir) {
    var keyed = rows.map(function (row) { return [value(row, key), +row.getAttribute("data-r"), row]; });
    keyed.sort(function (a, b) {
      if (a[0] === null || b[0] === null) return a[0] === null ? (b[0] === null ? a[1] - b[1] : 1) : -1;
      return (a[0] - b[0]) * dir || a[1] - b[1];
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { fragment.appendChild(k[2]); });
    tbody.appendChild(fragment);
    current = {key: key, dir: dir};
    sortable.forEach(function (th) {
      if (th.getAttribute("data-sort") === key) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  }
  sortable.forEach(function (th) {
    th.tabIndex = 0;
    var go = function () {
      var key = th.getAttribute("data-sort");
      sortBy(key, current.key === key ? -current.dir : 1);
    };
    th.addEventListener("click", go);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); go(); }
    });
  });

  function refresh() {
    updateDelta();
    if (current.key === "delta") sortBy("delta", current.dir);
  }
  [sysA, sysB, metricSel].forEach(function (el) { el.addEventListener("change", refresh); });
  $("sort-delta").addEventListener("click", function () {
    sortBy("delta", current.key === "delta" ? -current.dir : 1);
  });
  $("worst").addEventListener("click", function () {
    var j = +metricSel.value;
    sortBy("s:" + sysA.value + ":" + j, metrics[j].higher_is_better ? 1 : -1);
  });
  $("reset").addEventListener("click", function () { sortBy("idx", 1); });

  var lostOnly = $("lost-only");  // present where the run has the numbers metric's details
  function applyFilter() {
    var q = filter.value.trim().toLowerCase(), shown = 0, total = 0, lost = lostOnly !== null && lostOnly.checked;
    rows.forEach(function (row, k) {
      var here = inScope(row);
      var keep = here && (!q || texts[k].indexOf(q) >= 0) && (!lost || row.hasAttribute("data-numbers-lost"));
      row.hidden = !keep;
      if (here) total++;
      if (keep) shown++;
    });
    count.textContent = shown + " of " + total + " pairs shown";
  }
  onScope.push(applyFilter);
  filter.addEventListener("input", applyFilter);
  if (lostOnly !== null) lostOnly.addEventListener("change", applyFilter);

  updateDelta();
  applyFilter();
  $("controls").hidden = false;
})();
