// The attention explorer's static view (lmlib.widgets.attention_html): a heatmap per
// sentence, layer and head; a clicked query row shows where that token looks as bars.
function lmcbAttention(root) {
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  function part(c) { return root.querySelector(".lmcb-att-" + c); }
  var selS = part("sentence"), selL = part("layer"), selH = part("head"), selQ = part("query");
  var grid = part("grid"), bars = part("bars"), barsTitle = part("bars-title"), legendMax = part("max");
  var STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];  // viridis
  var shown = null;
  function color(x) {
    x = Math.max(0, Math.min(1, x)) * (STOPS.length - 1);
    var i = Math.min(Math.floor(x), STOPS.length - 2), f = x - i, a = STOPS[i], b = STOPS[i + 1];
    return "rgb(" + [0, 1, 2].map(function (c) { return Math.round(a[c] + f * (b[c] - a[c])); }).join(",") + ")";
  }
  function fmt(v) { return v.toFixed(data.digits); }
  function cell(v) {  // half up from the shown digits, as one rounds 0.215 by hand: 0.22
    if (v === 0) return "0";
    var d = Math.min(2, data.digits), f = Math.pow(10, d);
    return (Math.round(v * f + 1e-7) / f).toFixed(d);
  }
  function subject(word) {  // the subject particle: 이 after a final consonant, 가 after a vowel
    var c = word.charCodeAt(word.length - 1) - 0xAC00;
    return c >= 0 && c < 11172 ? (c % 28 ? "이" : "가") : "이(가)";
  }
  function sentence() { return data.sentences[+selS.value]; }
  function matrix() {
    var L = sentence().w[+selL.value], h = selH.value, n = L.length;
    if (h !== "mean") return L[+h].map(function (row) { return row.map(function (v) { return v / data.scale; }); });
    return L[0].map(function (row, t) {
      return row.map(function (_, j) {
        var sum = 0; for (var k = 0; k < n; k++) sum += L[k][t][j];
        return Math.round(sum / n) / data.scale;
      });
    });
  }
  function keyLabel(s, j) {  // a repeated key token gets its position, so the bars can be told apart
    var k = s.k[j], twice = s.k.indexOf(k) !== s.k.lastIndexOf(k);
    return twice ? k + " (" + (j + 1) + ")" : k;
  }
  function fillQueries() {
    selQ.textContent = "";
    sentence().q.forEach(function (tok, t) {
      var o = document.createElement("option"); o.value = String(t); o.textContent = (t + 1) + ". " + tok;
      selQ.appendChild(o);
    });
    selQ.value = "0";
  }
  function th(cls, text, title) {
    var e = document.createElement("th"); e.className = cls; e.textContent = text; if (title) e.title = title;
    return e;
  }
  function draw() {
    var s = sentence(), m = matrix(), hi = 0;
    m.forEach(function (r) { r.forEach(function (v) { if (v > hi) hi = v; }); });
    var small = s.q.length <= data.small && s.k.length <= data.small;
    grid.className = "lmcb-att-grid" + (small ? "" : " lmcb-att-big");
    grid.textContent = "";
    var head = grid.createTHead().insertRow();
    head.appendChild(th("lmcb-att-corner", "쿼리 ↓  키 →"));
    s.k.forEach(function (k, j) { head.appendChild(th("lmcb-att-k", k, "키 " + (j + 1) + ": " + k)); });
    var body = grid.createTBody();
    m.forEach(function (row, t) {
      var tr = body.insertRow(); tr.className = "lmcb-att-row"; tr.setAttribute("data-q", String(t));
      tr.appendChild(th("lmcb-att-q", s.q[t], "쿼리 " + (t + 1) + ": " + s.q[t]));
      row.forEach(function (v, j) {
        var td = tr.insertCell(), x = hi > 0 ? v / hi : 0;
        td.style.background = color(x); td.style.color = x > 0.6 ? "#000" : "#fff";
        td.setAttribute("data-w", fmt(v)); td.title = s.q[t] + " → " + s.k[j] + ": " + fmt(v);
        if (small) td.textContent = cell(v);
      });
    });
    legendMax.textContent = fmt(hi);
    shown = m;
    pick(+selQ.value);
  }
  function pick(t) {
    var s = sentence(), row = shown[t];
    selQ.value = String(t);
    Array.prototype.forEach.call(grid.querySelectorAll("tr.lmcb-att-row"), function (tr) {
      tr.classList.toggle("lmcb-att-sel", +tr.getAttribute("data-q") === t);
    });
    var order = row.map(function (_, j) { return j; });
    order.sort(function (a, b) { return row[b] - row[a] || a - b; });
    var top = row[order[0]];
    barsTitle.textContent = "‘" + s.q[t] + "’" + subject(s.q[t]) + " 보는 곳 (가중치 큰 순)";
    bars.textContent = "";
    order.slice(0, data.max_bars).forEach(function (j) {
      var r = document.createElement("div"); r.className = "lmcb-att-brow";
      var w = document.createElement("span"); w.className = "lmcb-att-bword"; w.textContent = keyLabel(s, j);
      w.title = w.textContent;
      var b = document.createElement("span"); b.className = "lmcb-att-bbar";
      b.style.width = (top > 0 ? 100 * row[j] / top : 0) * 0.6 + "%";
      var p = document.createElement("span"); p.className = "lmcb-att-bp"; p.textContent = fmt(row[j]);
      r.appendChild(w); r.appendChild(b); r.appendChild(p); bars.appendChild(r);
    });
    if (order.length > data.max_bars) {
      var more = document.createElement("div"); more.className = "lmcb-att-more";
      more.textContent = "… 나머지 " + (order.length - data.max_bars) + "개는 생략";
      bars.appendChild(more);
    }
  }
  grid.addEventListener("click", function (e) {
    var tr = e.target.closest("tr.lmcb-att-row");
    if (tr) pick(+tr.getAttribute("data-q"));
  });
  selS.addEventListener("change", function () { fillQueries(); draw(); });
  selL.addEventListener("change", draw);
  selH.addEventListener("change", draw);
  selQ.addEventListener("change", function () { pick(+selQ.value); });
  fillQueries(); draw();
}
