// gpt_live.js: the course's chapter-6 GPT (lmlib.gpt.GPT) running in the page itself.
//
// No kernel, no server code, no CDN, no dependencies. It reads the folder written by
// scripts/export_web_model.py (model.json + model.bin + tokenizer.json) and mirrors, module
// for module, lmlib/gpt.py and the tokenizer pipeline of lmlib/tokenizer.py ("bpe" kind:
// NFC -> Metaspace "▁" -> BPE with byte fallback; decode: ByteFallback -> Metaspace).
// tests/test_live_gpt.py checks it against lmlib in Python.
//
//   const info = await lmcbGPT.load("web_gpt/model.json");
//   const ids = lmcbGPT.encode("발 없는 말이 천 리 간다");      // = Tokenizer.encode
//   const out = lmcbGPT.forward(ids);                           // log-probs, attention
//   const g = lmcbGPT.generate("어제 카페 갔었어", {maxNewTokens: 10, greedy: true});
//
// Shapes in the comments: T positions (queries), S key positions, C model width (d_model),
// nh heads, hs head size (C / nh), F feed-forward width (d_ff), V vocabulary size, L layers.
// Arrays are flat Float32Arrays in row-major order, e.g. x (T, C): x[t * C + c].
(function (global) {
  "use strict";

  // --- errors, in Korean for the reader of the book ------------------------------------

  class LiveGPTError extends Error {
    constructor(code, message) {
      super(message);
      this.name = "LiveGPTError";
      this.code = code;  // "empty" | "unknown_only" | "too_long" | "bad_ids" | "not_loaded" | ...
    }
  }

  // --- loading -------------------------------------------------------------------------

  async function fetchOk(url) {
    const res = await fetch(url);
    if (!res.ok) throw new LiveGPTError("load", `모델 파일을 읽지 못했습니다: ${url} (HTTP ${res.status})`);
    return res;
  }

  // float16 bits -> float32 value (IEEE 754 half: 1 sign, 5 exponent, 10 fraction bits)
  function halfToFloat(h) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    if (exp === 0) return sign * frac * 2 ** -24;  // subnormal (and zero)
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }

  function readTensor(buffer, t) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const view = new DataView(buffer, t.offset, t.nbytes);
    const out = new Float32Array(n);
    if (t.dtype === "float32") {
      if (t.nbytes !== 4 * n) throw new LiveGPTError("load", `${t.name}: 크기가 맞지 않습니다`);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);  // little-endian
    } else if (t.dtype === "float16") {
      if (t.nbytes !== 2 * n) throw new LiveGPTError("load", `${t.name}: 크기가 맞지 않습니다`);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    } else {
      throw new LiveGPTError("load", `${t.name}: 지원하지 않는 dtype ${t.dtype}`);
    }
    return out;
  }

  async function load(manifestUrl) {
    const base = new URL(manifestUrl, global.location ? global.location.href : undefined);
    const manifest = await (await fetchOk(base)).json();
    if (manifest.format !== "lmcb-gpt-web" || manifest.version !== 1) {
      throw new LiveGPTError("load", `${manifestUrl}은(는) export_web_model.py가 만든 model.json이 아닙니다`);
    }
    const [buffer, tokData] = await Promise.all([
      fetchOk(new URL(manifest.weights.file, base)).then((r) => r.arrayBuffer()),
      fetchOk(new URL(manifest.tokenizer.file, base)).then((r) => r.json()),
    ]);
    if (buffer.byteLength !== manifest.weights.nbytes) {
      throw new LiveGPTError("load", `model.bin 크기가 ${buffer.byteLength}바이트로 manifest의 ` +
        `${manifest.weights.nbytes}바이트와 다릅니다 (파일이 잘렸거나 바뀌었습니다)`);
    }
    const W = {};  // state_dict name -> Float32Array, exactly lmlib's names
    for (const t of manifest.tensors) {
      W[t.name] = t.tied_to && W[t.tied_to] ? W[t.tied_to] : readTensor(buffer, t);
    }
    const model = new LiveGPT(manifest, W, new Tokenizer(tokData));
    api.model = model;  // the global functions below use the model loaded last
    return model.info();
  }

  // --- tokenizer: lmlib.tokenizer.Tokenizer (kind "bpe") -----------------------------------

  const SPACE = "\u2581";  // "▁", SentencePiece's word-start marker
  const UTF8 = new TextEncoder();

  class Tokenizer {
    constructor(d) {
      if (d.format !== "lmcb-bpe-web") throw new LiveGPTError("load", "tokenizer.json 형식이 다릅니다");
      this.vocab = d.vocab;  // id -> token (piece) string
      this.idOf = new Map(d.vocab.map((tok, id) => [tok, id]));  // token -> id
      this.merges = new Map();  // "a b" (two ids) -> [rank, id of the merged piece]
      d.merges.forEach(([a, b], rank) => {
        this.merges.set(a + " " + b, [rank, this.idOf.get(d.vocab[a] + d.vocab[b])]);
      });
      this.byteId = [];  // byte value -> id of "<0xAB>"
      for (let b = 0; b < 256; b++) {
        this.byteId.push(this.idOf.get("<0x" + b.toString(16).toUpperCase().padStart(2, "0") + ">"));
      }
      // Added (special) tokens are cut out of the raw text first, longest match first.
      this.added = d.added_tokens.slice().sort((x, y) => y.content.length - x.content.length);
      this.addedIds = new Set(d.added_tokens.map((t) => t.id));
      this.skipOnDecode = new Set(d.skip_on_decode);
      this.unkId = d.unk_id;
      this.eosId = d.eos_id;
    }

    // Split the raw text around added tokens: [{text} | {id}] in order (HF's AddedVocabulary).
    splitAdded(text) {
      const parts = [];
      let start = 0;
      for (let i = 0; i < text.length;) {
        const hit = this.added.find((t) => text.startsWith(t.content, i));
        if (hit) {
          if (i > start) parts.push({ text: text.slice(start, i) });
          parts.push({ id: hit.id });
          i += hit.content.length;
          start = i;
        } else {
          i++;
        }
      }
      if (start < text.length) parts.push({ text: text.slice(start) });
      return parts;
    }

    // Metaspace pre-tokenizer: " " -> "▁", a "▁" put before the text unless it starts with
    // one, then split so each word starts with its "▁" ("  a" -> ["▁", "▁a"]).
    preTokenize(text) {
      let s = text.replaceAll(" ", SPACE);
      if (!s.startsWith(SPACE)) s = SPACE + s;
      const words = [];
      let cur = "";
      for (const ch of s) {  // for...of walks code points (an emoji is one)
        if (ch === SPACE && cur) { words.push(cur); cur = ""; }
        cur += ch;
      }
      if (cur) words.push(cur);
      return words;
    }

    // BPE on one word: characters -> ids (unknown ones spelled as UTF-8 byte tokens), then
    // repeatedly merge the adjacent pair of lowest rank (leftmost first), as HF's BPE does.
    bpe(word) {
      let syms = [];
      for (const ch of word) {
        const id = this.idOf.get(ch);
        if (id !== undefined && !this.addedIds.has(id)) {
          syms.push(id);
        } else {  // byte fallback: every byte token is in the vocabulary, so never <unk>
          for (const b of UTF8.encode(ch)) syms.push(this.byteId[b]);
        }
      }
      for (;;) {
        let best = -1, bestRank = Infinity, bestId = -1;
        for (let i = 0; i + 1 < syms.length; i++) {
          const m = this.merges.get(syms[i] + " " + syms[i + 1]);
          if (m && m[0] < bestRank) { best = i; bestRank = m[0]; bestId = m[1]; }
        }
        if (best < 0) return syms;
        syms = [...syms.slice(0, best), bestId, ...syms.slice(best + 2)];
      }
    }

    encode(text) {
      if (typeof text !== "string") throw new LiveGPTError("type", `text는 문자열이어야 합니다 (받은 값: ${typeof text})`);
      const ids = [];
      for (const part of this.splitAdded(text)) {
        if (part.id !== undefined) { ids.push(part.id); continue; }
        const normalized = part.text.normalize("NFC");
        if (!normalized) continue;
        for (const word of this.preTokenize(normalized)) ids.push(...this.bpe(word));
      }
      return ids;
    }

    tokens(text) { return this.encode(text).map((id) => this.vocab[id]); }

    // Tokenizer.decode(ids, skip_special=True): specials but <unk> dropped; runs of byte
    // tokens become their UTF-8 text ("�" per byte if invalid); "▁" -> " ", and the first
    // piece loses its leading "▁".
    decode(ids) {
      const pieces = [];
      let bytes = [];
      const flush = () => {
        if (!bytes.length) return;
        try {
          pieces.push(new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes)));
        } catch (e) {
          for (let i = 0; i < bytes.length; i++) pieces.push("\ufffd");
        }
        bytes = [];
      };
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= this.vocab.length) {
          throw new LiveGPTError("bad_ids", `토큰 id ${id}는 0..${this.vocab.length - 1} 범위를 벗어납니다`);
        }
        if (this.skipOnDecode.has(id)) continue;
        const tok = this.vocab[id];
        const byte = /^<0x([0-9A-F]{2})>$/.exec(tok);
        if (byte) { bytes.push(parseInt(byte[1], 16)); continue; }
        flush();
        pieces.push(tok);
      }
      flush();
      return pieces.map((p, i) => {
        const s = p.replaceAll(SPACE, " ");
        return i === 0 && p.startsWith(SPACE) ? s.slice(1) : s;
      }).join("");
    }

    // Characters of `text` the vocabulary lacks (spelled as bytes), and whether any known
    // character is left once the spaces are put aside.
    unknownChars(text) {
      const unknown = [];
      let known = 0;
      for (const ch of text.normalize("NFC")) {
        if (/\s/u.test(ch)) continue;
        const id = this.idOf.get(ch);
        if (id === undefined || this.addedIds.has(id)) unknown.push(ch); else known++;
      }
      return { unknown, known };
    }
  }

  // --- the network: lmlib.gpt, module by module --------------------------------------------

  // nn.Linear: y = x W^T + b.  x (T, nIn), W (nOut, nIn), b (nOut) -> y (T, nOut)
  function linear(x, T, nIn, W, b, nOut) {
    const y = new Float32Array(T * nOut);
    for (let t = 0; t < T; t++) {
      const xo = t * nIn;
      for (let o = 0; o < nOut; o++) {
        const wo = o * nIn;
        let s = b ? b[o] : 0;
        for (let i = 0; i < nIn; i++) s += x[xo + i] * W[wo + i];
        y[t * nOut + o] = s;
      }
    }
    return y;
  }

  // nn.LayerNorm(C, eps): per position, (x - mean) / sqrt(var + eps) * w + b (biased var).
  function layerNorm(x, T, C, w, b, eps) {
    const y = new Float32Array(T * C);
    for (let t = 0; t < T; t++) {
      const o = t * C;
      let mean = 0, v = 0;
      for (let c = 0; c < C; c++) mean += x[o + c];
      mean /= C;
      for (let c = 0; c < C; c++) { const d = x[o + c] - mean; v += d * d; }
      const inv = 1 / Math.sqrt(v / C + eps);
      for (let c = 0; c < C; c++) y[o + c] = (x[o + c] - mean) * inv * w[c] + b[c];
    }
    return y;
  }

  // nn.GELU(approximate="tanh"), GPT-2's gelu_new, in place
  function gelu(x) {
    const k = Math.sqrt(2 / Math.PI);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      x[i] = 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
    }
    return x;
  }

  function logSoftmax(row) {  // (V) -> (V), in double precision
    let max = -Infinity;
    for (const v of row) if (v > max) max = v;
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    const lse = max + Math.log(sum), out = new Float32Array(row.length);
    for (let i = 0; i < row.length; i++) out[i] = row[i] - lse;
    return out;
  }

  // A key/value cache: per layer the keys and values of every position seen so far,
  // k, v (S, C) with head h in columns h*hs .. h*hs+hs-1 (as .view(B, S, nh, hs)).
  function emptyCache(cfg) {
    const layers = [];
    for (let l = 0; l < cfg.n_layers; l++) {
      layers.push({ k: new Float32Array(cfg.max_len * cfg.d_model), v: new Float32Array(cfg.max_len * cfg.d_model) });
    }
    return { length: 0, layers };
  }

  class LiveGPT {
    constructor(manifest, W, tokenizer) {
      this.manifest = manifest;
      this.config = manifest.config;
      this.W = W;
      this.tokenizer = tokenizer;
    }

    info() {
      const c = this.config;
      return { config: c, dtype: this.manifest.dtype, bytes: this.manifest.weights.nbytes,
        vocabSize: c.vocab_size, maxLen: c.max_len };
    }

    // CausalSelfAttention: x (T, C) = ln_1 output of the T new positions, which sit at
    // absolute positions past .. past+T-1; appends their k, v to `layer` -> y (T, C).
    attention(x, T, l, layer, past, wantAttn) {
      const c = this.config, C = c.d_model, nh = c.n_heads, hs = C / nh, W = this.W;
      const p = `transformer.h.${l}.attn.`;
      const qkv = linear(x, T, C, W[p + "c_attn.weight"], W[p + "c_attn.bias"], 3 * C);  // (T, 3C): q | k | v
      const S = past + T;
      for (let t = 0; t < T; t++) {  // the cache gets k, v of the new positions
        layer.k.set(qkv.subarray(t * 3 * C + C, t * 3 * C + 2 * C), (past + t) * C);
        layer.v.set(qkv.subarray(t * 3 * C + 2 * C, t * 3 * C + 3 * C), (past + t) * C);
      }
      const y = new Float32Array(T * C);  // heads side by side, as .transpose(1, 2).view(B, T, C)
      const weights = wantAttn ? [] : null;  // per head (T, S)
      const scale = 1 / Math.sqrt(hs);
      const row = new Float64Array(S);
      for (let h = 0; h < nh; h++) {
        const wh = wantAttn ? new Float32Array(T * S) : null;
        for (let t = 0; t < T; t++) {
          const pos = past + t;  // causal mask: query at pos reads keys 0..pos only
          let max = -Infinity;
          for (let s = 0; s <= pos; s++) {  // scores = (q / sqrt(hs)) . k
            let dot = 0;
            for (let i = 0; i < hs; i++) {
              dot += Math.fround(qkv[t * 3 * C + h * hs + i] * scale) * layer.k[s * C + h * hs + i];
            }
            row[s] = dot;
            if (dot > max) max = dot;
          }
          let sum = 0;
          for (let s = 0; s <= pos; s++) { row[s] = Math.exp(row[s] - max); sum += row[s]; }
          for (let s = 0; s <= pos; s++) {  // softmax weight, then y += w * v
            const w = row[s] / sum;
            if (wh) wh[t * S + s] = w;  // masked keys (s > pos) stay 0, as in lmlib
            for (let i = 0; i < hs; i++) y[t * C + h * hs + i] += w * layer.v[s * C + h * hs + i];
          }
        }
        if (weights) weights.push(wh);
      }
      return { out: linear(y, T, C, W[p + "c_proj.weight"], W[p + "c_proj.bias"], C), weights };  // (T, C)
    }

    // MLP: c_fc (C -> F), tanh GELU, c_proj (F -> C).  x (T, C) -> (T, C)
    mlp(x, T, l) {
      const c = this.config, W = this.W, p = `transformer.h.${l}.mlp.`;
      const h = gelu(linear(x, T, c.d_model, W[p + "c_fc.weight"], W[p + "c_fc.bias"], c.d_ff));  // (T, F)
      return linear(h, T, c.d_ff, W[p + "c_proj.weight"], W[p + "c_proj.bias"], c.d_model);
    }

    // GPT.forward for T new tokens after the `cache.length` already in the cache.
    // Returns logits (T_out, V) for the last `lastOnly ? 1 : T` positions and, if asked,
    // attention per layer per head (T, S).
    run(ids, cache, { wantAttn = false, lastOnly = false } = {}) {
      const c = this.config, C = c.d_model, V = c.vocab_size, W = this.W, T = ids.length, past = cache.length;
      const wte = W["transformer.wte.weight"], wpe = W["transformer.wpe.weight"];  // (V, C), (max_len, C)
      let x = new Float32Array(T * C);  // wte(idx) + wpe(pos): (T, C)
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < C; i++) x[t * C + i] = wte[ids[t] * C + i] + wpe[(past + t) * C + i];
      }
      const attentions = [];
      for (let l = 0; l < c.n_layers; l++) {  // Block: pre-LN, residual adds
        const p = `transformer.h.${l}.`, eps = c.layer_norm_eps;
        const a = this.attention(layerNorm(x, T, C, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps), T, l,
          cache.layers[l], past, wantAttn);
        for (let i = 0; i < x.length; i++) x[i] += a.out[i];  // x = x + attn(ln_1(x))
        const m = this.mlp(layerNorm(x, T, C, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps), T, l);
        for (let i = 0; i < x.length; i++) x[i] += m[i];  // x = x + mlp(ln_2(x))
        attentions.push(a.weights);
      }
      cache.length = past + T;
      const from = lastOnly ? T - 1 : 0, Tout = T - from;
      const xf = layerNorm(x.subarray(from * C), Tout, C, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"],
        c.layer_norm_eps);  // (Tout, C)
      // lm_head: (Tout, C) @ (C, V); its weight is wte's when tied (the manifest says so)
      const logits = linear(xf, Tout, C, W["lm_head.weight"], null, V);  // (Tout, V)
      return { logits, attentions: wantAttn ? attentions : null };
    }

    checkIds(ids) {
      const c = this.config;
      if (!Array.isArray(ids) && !ArrayBuffer.isView(ids)) {
        throw new LiveGPTError("bad_ids", "ids는 토큰 id의 배열이어야 합니다");
      }
      if (ids.length === 0) throw new LiveGPTError("empty", "토큰이 하나도 없습니다. 한 개 이상의 토큰 id를 넣어 주세요.");
      if (ids.length > c.max_len) {
        throw new LiveGPTError("too_long", `토큰 ${ids.length}개는 문맥 길이 ${c.max_len}개를 넘습니다. ` +
          "prepare(text)나 generate(text)는 앞부분을 잘라 마지막 토큰들만 넣어 줍니다.");
      }
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= c.vocab_size) {
          throw new LiveGPTError("bad_ids", `토큰 id ${id}는 0..${c.vocab_size - 1} 범위를 벗어납니다`);
        }
      }
      return Array.from(ids);
    }

    // forward(ids) -> {T, V, logprobs (T, V): row t = log P(next token | ids[0..t]),
    //                  attentions[l][h] (T, T): row t = weights of query t over keys 0..T-1}
    forward(ids, { attention = true } = {}) {
      ids = this.checkIds(ids);
      const c = this.config, V = c.vocab_size, T = ids.length;
      const { logits, attentions } = this.run(ids, emptyCache(c), { wantAttn: attention });
      const logprobs = new Float32Array(T * V);
      for (let t = 0; t < T; t++) logprobs.set(logSoftmax(logits.subarray(t * V, (t + 1) * V)), t * V);
      return { ids, T, V, logprobs, attentions, row: (t) => logprobs.subarray(t * V, (t + 1) * V) };
    }

    // Text -> ids ready for the model, with the checks a reader needs in Korean:
    // empty text and text of unknown characters only are refused; text longer than the
    // context (max_len - reserve tokens) is cut from the left, and the result says so.
    prepare(text, { reserve = 0 } = {}) {
      if (typeof text !== "string") throw new LiveGPTError("type", `입력은 문자열이어야 합니다 (받은 값: ${typeof text})`);
      if (text.trim() === "") throw new LiveGPTError("empty", "입력이 비어 있습니다. 한 글자 이상 입력해 주세요.");
      const { unknown, known } = this.tokenizer.unknownChars(text);
      if (known === 0) {
        throw new LiveGPTError("unknown_only", `입력한 글자(${[...new Set(unknown)].join(" ")})가 모두 모델의 ` +
          "어휘에 없습니다. 모델이 학습에서 본 한국어 글자를 넣어 주세요.");
      }
      const all = this.tokenizer.encode(text), room = this.config.max_len - reserve;
      const dropped = Math.max(0, all.length - room);
      const ids = all.slice(dropped);
      const notice = dropped ? `입력이 ${all.length}토큰으로 문맥 길이 ${room}토큰보다 길어서, 앞쪽 ` +
        `${dropped}토큰을 잘라내고 마지막 ${ids.length}토큰만 모델에 넣었습니다.` : null;
      return { ids, allIds: all, truncated: dropped, notice, unknown };
    }

    // The next-token distribution after `text` (or ids): the top k tokens with probabilities.
    nextToken(input, { k = 10 } = {}) {
      const prep = typeof input === "string" ? this.prepare(input) : { ids: this.checkIds(input), truncated: 0, notice: null };
      const { logits } = this.run(prep.ids, emptyCache(this.config), { lastOnly: true });
      const lp = logSoftmax(logits);
      const order = Array.from(lp.keys()).sort((a, b) => lp[b] - lp[a] || a - b).slice(0, k);
      return { ...prep, top: order.map((id) => ({ id, token: this.tokenizer.vocab[id], logprob: lp[id], prob: Math.exp(lp[id]) })) };
    }

    // GPT.generate with crop=True: up to maxNewTokens tokens, stopping after eos (config
    // eos_id; stopAtEos false never stops). greedy takes the argmax; otherwise samples from
    // nextTokenProbs(logits, temperature, topK, topP) with a PRNG seeded by `seed`.
    generate(input, { maxNewTokens = 20, greedy = false, temperature = 1.0, topK = null, topP = null,
      seed = 0, stopAtEos = true } = {}) {
      const c = this.config;
      if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
        throw new LiveGPTError("bad_args", `maxNewTokens는 1 이상의 정수여야 합니다 (받은 값: ${maxNewTokens})`);
      }
      if (!greedy) checkSampling(temperature, topK, topP);
      const prep = typeof input === "string" ? this.prepare(input) : (() => {
        const all = this.checkIds(input.length > c.max_len ? Array.from(input).slice(-c.max_len) : input);
        const dropped = input.length - all.length;
        return { ids: all, allIds: Array.from(input), truncated: dropped,
          notice: dropped ? `앞쪽 ${dropped}토큰을 잘라내고 마지막 ${c.max_len}토큰만 모델에 넣었습니다.` : null };
      })();
      const rand = mulberry32(seed);
      const ids = prep.ids.slice();
      const newIds = [];
      let cache = emptyCache(c), fed = 0;
      for (let step = 0; step < maxNewTokens; step++) {
        let logits;
        if (ids.length > c.max_len) {  // window full: the model sees the last max_len tokens, no cache
          cache = emptyCache(c);
          logits = this.run(ids.slice(-c.max_len), cache, { lastOnly: true }).logits;
          cache = null;
        } else {  // cache: only the tokens it has not seen yet go in
          logits = this.run(ids.slice(fed), cache, { lastOnly: true }).logits;
          fed = ids.length;
        }
        const next = greedy ? argmax(logits) : sample(nextTokenProbs(logits, { temperature, topK, topP }), rand);
        ids.push(next);
        newIds.push(next);
        if (stopAtEos && c.eos_id !== null && next === c.eos_id) break;
      }
      return { ...prep, ids: prep.allIds.concat(newIds), newIds, text: this.tokenizer.decode(newIds) };
    }
  }

  // --- sampling: lmlib.gpt.next_token_probs ------------------------------------------------

  function checkSampling(temperature, topK, topP) {
    if (!(typeof temperature === "number" && temperature > 0 && Number.isFinite(temperature))) {
      throw new LiveGPTError("bad_args", `temperature는 0보다 큰 유한한 수여야 합니다 (받은 값: ${temperature}); 가장 그럴듯한 토큰만 원하면 greedy: true`);
    }
    if (topK !== null && !(Number.isInteger(topK) && topK >= 1)) {
      throw new LiveGPTError("bad_args", `topK는 null이거나 1 이상의 정수여야 합니다 (받은 값: ${topK})`);
    }
    if (topP !== null && !(typeof topP === "number" && topP > 0 && topP <= 1)) {
      throw new LiveGPTError("bad_args", `topP는 null이거나 (0, 1] 범위의 수여야 합니다 (받은 값: ${topP})`);
    }
  }

  function argmax(row) {  // the first index of the largest value, as torch.argmax
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  }

  // softmax(logits / temperature), keeping only the top k (ties at the k-th kept), then the
  // fewest most probable tokens whose probabilities sum to >= top p -> probabilities (V)
  function nextTokenProbs(logits, { temperature = 1.0, topK = null, topP = null } = {}) {
    checkSampling(temperature, topK, topP);
    const z = Float64Array.from(logits, (v) => Math.fround(v / temperature));
    if (topK !== null && topK < z.length) {
      const kth = Float64Array.from(z).sort().reverse()[topK - 1];
      for (let i = 0; i < z.length; i++) if (z[i] < kth) z[i] = -Infinity;
    }
    if (topP !== null) {
      const p = softmax(z), order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
      let before = 0;
      for (const i of order) {  // drop a token once the ones ranked above it hold >= topP
        const pi = p[i];
        if (before >= topP) z[i] = -Infinity;
        before += pi;
      }
    }
    return softmax(z);
  }

  function softmax(z) {
    let max = -Infinity;
    for (const v of z) if (v > max) max = v;
    const p = new Float64Array(z.length);
    let sum = 0;
    for (let i = 0; i < z.length; i++) { p[i] = Math.exp(z[i] - max); sum += p[i]; }
    for (let i = 0; i < z.length; i++) p[i] /= sum;
    return p;
  }

  // mulberry32: a small seeded PRNG, uniform in [0, 1); the same seed gives the same text
  function mulberry32(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function sample(probs, rand) {  // one id drawn with the given probabilities
    const u = rand();
    let acc = 0, last = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] > 0) { acc += probs[i]; last = i; if (u < acc) return i; }
    }
    return last;  // rounding left u above the total
  }

  // --- the global object ------------------------------------------------------------------

  function current() {
    if (!api.model) throw new LiveGPTError("not_loaded", "모델이 아직 없습니다. 먼저 await lmcbGPT.load(\"…/model.json\")을 부르세요.");
    return api.model;
  }

  const api = {
    model: null,
    LiveGPTError,
    load,
    encode: (text) => current().tokenizer.encode(text),
    tokens: (text) => current().tokenizer.tokens(text),
    decode: (ids) => current().tokenizer.decode(ids),
    prepare: (text, opts) => current().prepare(text, opts),
    forward: (ids, opts) => current().forward(ids, opts),
    nextToken: (input, opts) => current().nextToken(input, opts),
    generate: (input, opts) => current().generate(input, opts),
    nextTokenProbs,
    mulberry32,
  };
  global.lmcbGPT = api;
})(typeof window !== "undefined" ? window : globalThis);
