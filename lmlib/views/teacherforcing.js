// The teacher-forcing stepper's static view (lmlib.widgets.teacher_forcing_html): the
// decoder's input and prediction step by step, in teacher-forcing and free-running mode.
function lmcbTeacherforcing(root) {
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  function part(c) { return root.querySelector(".lmcb-tf-" + c); }
  var prev = part("prev"), next = part("next"), stepLabel = part("step"), refRow = part("refrow");
  var modeButtons = Array.prototype.slice.call(root.querySelectorAll(".lmcb-tf-modes button"));
  var mode = "teacher", t = 0;
  root.tabIndex = 0;  // focusable, for the arrow keys
  function el(tag, cls, text) {
    var e = document.createElement(tag); if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function chips(box, tokens, wrong) {
    box.textContent = "";
    tokens.forEach(function (tok, i) {
      var c = el("span", "lmcb-tf-chip" + (wrong && wrong[i] ? " lmcb-tf-wrong" : ""), tok);
      if (wrong && wrong[i]) c.title = i < data.ref.length ? "정답 접두어에서는 ‘" + data.ref[i] + "’" : "정답 문장보다 긺";
      box.appendChild(c);
    });
  }
  function num(x) { return x === null ? "—" : x.toFixed(3); }
  function draw() {
    var steps = data.modes[mode], n = steps.length, s = steps[t], free = mode === "free";
    modeButtons.forEach(function (b) {
      var on = b.getAttribute("data-mode") === mode;
      b.classList.toggle("lmcb-tf-on", on); b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    stepLabel.textContent = "단계 " + (t + 1) + " / " + n;
    [[prev, t === 0], [next, t === n - 1]].forEach(function (bd) {
      if (bd[1] && document.activeElement === bd[0]) root.focus();  // keep the arrow keys working
      bd[0].disabled = bd[1];
    });
    root.setAttribute("data-mode", mode); root.setAttribute("data-step", String(t + 1));
    chips(part("src"), data.src);
    var wrong = s.decoder_input.map(function (tok, i) { return free && (i >= data.ref.length || data.ref[i] !== tok); });
    chips(part("dec"), s.decoder_input, wrong);
    part("declabel").textContent = free ? "디코더 입력 (모델 예측)" : "디코더 입력 (정답 접두어)";
    refRow.style.display = free ? "" : "none";
    chips(part("ref"), data.ref.slice(0, s.decoder_input.length));
    var gold = part("gold"); gold.textContent = "";
    if (s.gold === null) gold.appendChild(el("span", "lmcb-tf-note", "없음 (정답 문장이 이미 끝남)"));
    else gold.appendChild(el("span", "lmcb-tf-chip lmcb-tf-goldchip", s.gold));
    var pred = part("pred"), top = s.topk[0][0]; pred.textContent = "";
    pred.appendChild(el("span", "lmcb-tf-chip", top));
    if (s.gold !== null) {
      var ok = top === s.gold;
      pred.appendChild(el("span", ok ? "lmcb-tf-pred-ok" : "lmcb-tf-pred-bad", ok ? " ✓ 정답" : " ✗ 오답"));
    }
    pred.appendChild(el("span", "lmcb-tf-note", free ? "  → 다음 단계의 디코더 입력이 됩니다"
                                                       : "  (다음 입력은 예측과 상관없이 정답)"));
    part("bars-title").textContent = "다음 토큰 확률 (상위 " + s.topk.length + "개)";
    var bars = part("bars"), hi = s.topk[0][1], found = false; bars.textContent = "";
    s.topk.forEach(function (r) {
      var isGold = s.gold !== null && r[0] === s.gold; found = found || isGold;
      var row = el("div", "lmcb-tf-brow" + (isGold ? " lmcb-tf-gold" : ""));
      var w = el("span", "lmcb-tf-bword", r[0]); w.title = r[0];
      var track = el("span", "lmcb-tf-track"), b = el("span", "lmcb-tf-bbar");
      b.style.width = (hi > 0 ? 100 * r[1] / hi : 0) + "%"; track.appendChild(b);
      row.appendChild(w); row.appendChild(track);
      row.appendChild(el("span", "lmcb-tf-bp", r[1].toFixed(3) + (isGold ? "  ← 정답" : "")));
      bars.appendChild(row);
    });
    var absent = part("absent");
    absent.style.display = s.gold !== null && !found ? "" : "none";
    absent.textContent = "정답이 상위 " + s.topk.length + "개에 없음" +
      (s.gold !== null && s.gold_prob !== null ? " (p(‘" + s.gold + "’) = " + num(s.gold_prob) + ")" : "");
    part("loss").textContent = s.loss === null ? "— (정답 없음)" :
      (s.gold_prob !== null ? "−log " + num(s.gold_prob) + " = " : "") + num(s.loss);
    part("mean").textContent = s.mean_loss === null ? "—" : num(s.mean_loss) + " (" + (t ? "1–" : "") + (t + 1) + "단계)";
  }
  function go(k) { var n = data.modes[mode].length; t = Math.max(0, Math.min(n - 1, k)); draw(); }
  prev.addEventListener("click", function () { go(t - 1); });
  next.addEventListener("click", function () { go(t + 1); });
  modeButtons.forEach(function (b) {
    b.addEventListener("click", function () { mode = b.getAttribute("data-mode"); go(t); });
  });
  root.addEventListener("keydown", function (e) {
    var k = {ArrowLeft: t - 1, ArrowRight: t + 1, Home: 0, End: 1e9}[e.key];
    if (k === undefined) return;
    e.preventDefault(); go(k);
  });
  draw();
}
