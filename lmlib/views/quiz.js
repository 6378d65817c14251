// A chapter's concept quiz (lmlib.views.quiz): multiple choice and short answer, with
// feedback for each answer. Runs without a kernel: the questions come as JSON in the page.
function lmcbQuiz(root) {
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Short answers: spaces, case and a final full stop do not matter; numbers compare as numbers.
  function normalise(s) {
    return s.replace(/\s+/g, "").replace(/[.。]$/, "").toLowerCase();
  }
  function matches(given, q) {
    if (q.number !== undefined) {
      var x = parseFloat(given.replace(/,/g, ""));
      return isFinite(x) && Math.abs(x - q.number) <= (q.tolerance || 0);
    }
    var g = normalise(given);
    return q.answers.some(function (a) { return normalise(a) === g; });
  }

  var head = el("div", "lmcb-quiz-head", data.title);
  root.appendChild(head);
  var score = el("div", "lmcb-quiz-score");
  var done = {};

  function update() {
    var right = 0, tried = 0;
    Object.keys(done).forEach(function (k) { tried++; if (done[k]) right++; });
    score.textContent = tried ? "맞힌 문제 " + right + " / " + data.questions.length +
      (tried < data.questions.length ? " (푼 문제 " + tried + ")" : "") : "";
  }

  data.questions.forEach(function (q, i) {
    var box = el("div", "lmcb-quiz-q");
    box.appendChild(el("div", "lmcb-quiz-text", (i + 1) + ". " + q.q));
    var feedback = el("div", "lmcb-quiz-feedback");
    feedback.setAttribute("aria-live", "polite");
    function show(ok, why) {
      feedback.className = "lmcb-quiz-feedback " + (ok ? "lmcb-quiz-ok" : "lmcb-quiz-no");
      feedback.textContent = (ok ? "맞습니다. " : "아닙니다. ") + why;
      done[i] = ok;  // the latest answer counts
      update();
    }
    if (q.type === "choice") {
      var list = el("div", "lmcb-quiz-options");
      q.options.forEach(function (o, j) {
        var b = el("button", "lmcb-quiz-option", o.text);
        b.type = "button";
        b.addEventListener("click", function () {
          list.querySelectorAll("button").forEach(function (x) { x.classList.remove("lmcb-quiz-picked"); });
          b.classList.add("lmcb-quiz-picked");
          show(!!o.correct, o.why);
        });
        list.appendChild(b);
      });
      box.appendChild(list);
    } else {
      var row = el("div", "lmcb-quiz-answer");
      var input = el("input");
      input.type = "text";
      input.placeholder = "답을 쓰고 Enter";
      input.setAttribute("aria-label", (i + 1) + "번 답");
      var check = el("button", "lmcb-quiz-check", "확인");
      check.type = "button";
      function grade() {
        if (!input.value.trim()) {
          feedback.className = "lmcb-quiz-feedback lmcb-quiz-no";
          feedback.textContent = "답을 먼저 쓰세요.";
          return;
        }
        var ok = matches(input.value, q);
        show(ok, ok ? q.why : (q.hint || q.why));
      }
      check.addEventListener("click", grade);
      input.addEventListener("keydown", function (e) { if (e.key === "Enter") grade(); });
      row.appendChild(input);
      row.appendChild(check);
      box.appendChild(row);
    }
    box.appendChild(feedback);
    root.appendChild(box);
  });
  root.appendChild(score);
}
