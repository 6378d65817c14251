// The next-word explorer's static view (lmlib.widgets.next_word_html): bars of the
// most likely next words for the context chosen in the select.
function lmcbNextword(root) {
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var select = root.querySelector("select"), bars = root.querySelector(".lmcb-bars");
  function draw() {
    var rows = data.contexts[select.value], top = rows.length ? rows[0][1] : 1;
    bars.innerHTML = "";
    rows.forEach(function (r) {
      var row = document.createElement("div"); row.className = "lmcb-row";
      var w = document.createElement("span"); w.className = "lmcb-word"; w.textContent = r[0];
      var b = document.createElement("span"); b.className = "lmcb-bar";
      b.style.width = (top > 0 ? 100 * r[1] / top : 0) * 0.7 + "%";
      var p = document.createElement("span"); p.className = "lmcb-p"; p.textContent = r[1].toPrecision(3);
      row.appendChild(w); row.appendChild(b); row.appendChild(p); bars.appendChild(row);
    });
  }
  select.addEventListener("change", draw); draw();
}
