// Formulas to SVG at build time, so that the published book needs no MathJax in the browser.
// stdin: JSON [{"page": 0, "tex": "P(w_1, \\dots)", "display": false}, ...], grouped by page;
// stdout: JSON {"svgs": [svg markup, ...], "defs": {"0": "<defs>...</defs>", ...}}: each page's
// glyph shapes once (MathJax's global font cache), which its formulas <use>.
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
const svg = new SVG({fontCache: "global", mtextInheritFont: true});
const doc = mathjax.document("", {InputJax: tex, OutputJax: svg});

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const svgs = [], defs = {};
  let page = null;
  const flush = () => {
    if (page !== null) defs[page] = adaptor.outerHTML(svg.fontCache.getCache());
    svg.fontCache.clearCache();
  };
  for (const item of JSON.parse(input)) {
    if (item.page !== page) { flush(); page = item.page; }
    try {
      svgs.push(adaptor.innerHTML(doc.convert(item.tex, {display: item.display})));
    } catch (err) {
      process.stderr.write(`tex2svg: cannot render ${JSON.stringify(item.tex)}: ${err.message}\n`);
      process.exit(1);
    }
  }
  flush();
  process.stdout.write(JSON.stringify({svgs, defs}));
});
