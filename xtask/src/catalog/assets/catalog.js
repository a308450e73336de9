// rulec rule catalog: search and sorting for the index (no framework).
(function () {
  "use strict";
  var table = document.getElementById("rules");
  var search = document.getElementById("search");
  var shown = document.getElementById("shown");
  if (!table || !search) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);

  function filter() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var text = (row.textContent + " " + row.getAttribute("data-tags")).toLowerCase();
      var match = terms.every(function (t) { return text.indexOf(t) !== -1; });
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " rules";
  }

  function sortKey(row, key) {
    var cell = row.querySelector('td[data-key="' + key + '"]');
    if (!cell) { return ""; }
    var sort = cell.getAttribute("data-sort");
    return sort !== null ? Number(sort) : cell.textContent.trim().toLowerCase();
  }

  function sortBy(key, descending) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th) {
      th.setAttribute("aria-sort", th.getAttribute("data-key") === key
        ? (descending ? "descending" : "ascending") : "none");
    });
    rows.sort(function (a, b) {
      var x = sortKey(a, key), y = sortKey(b, key);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    function activate() {
      sortBy(th.getAttribute("data-key"), th.getAttribute("aria-sort") === "ascending");
    }
    th.addEventListener("click", activate);
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); }
    });
  });
  search.addEventListener("input", filter);

  // ?q=words fills the search box; ?sort=key (and &desc) sorts: links to a view.
  var params = new URLSearchParams(window.location.search);
  if (params.get("q")) { search.value = params.get("q"); }
  if (params.get("sort")) { sortBy(params.get("sort"), params.has("desc")); }
  filter();
  document.body.setAttribute("data-ready", "true");
})();
