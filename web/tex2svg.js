// Formulas to SVG at build time, so that the published book needs no MathJax in the browser.
// stdin: JSON [{"tex": "P(w_1, \\dots)", "display": false}, ...]; stdout: JSON [svg markup, ...].
// A formula MathJax cannot parse fails the build (exit 1, with its TeX), it is never left raw.
"use strict";
const {mathjax} = require("mathjax-full/js/mathjax.js");
const {TeX} = require("mathjax-full/js/input/tex.js");
const {SVG} = require("mathjax-full/js/output/svg.js");
const {liteAdaptor} = require("mathjax-full/js/adaptors/liteAdaptor.js");
const {RegisterHTMLHandler} = require("mathjax-full/js/handlers/html.js");
const {AllPackages} = require("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: AllPackages.filter((p) => p !== "bussproofs"),
  formatError: (jax, err) => { throw err; },
});
// mtextInheritFont: \text{어제} is drawn in the page's font (the site's NanumGothic), not "serif".
const svg = new SVG({fontCache: "local", mtextInheritFont: true});
const doc = mathjax.document("", {InputJax: tex, OutputJax: svg});

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const out = [];
  for (const {tex: src, display} of JSON.parse(input)) {
    try {
      out.push(adaptor.innerHTML(doc.convert(src, {display})));
    } catch (err) {
      process.stderr.write(`tex2svg: cannot render ${JSON.stringify(src)}: ${err.message}\n`);
      process.exit(1);
    }
  }
  process.stdout.write(JSON.stringify(out));
});
