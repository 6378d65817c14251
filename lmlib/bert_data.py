"""BERT's pretraining data: masked words (MLM) and sentence pairs (NSP).

Lecture L22-L23 (Devlin et al. 2018, §3.1 and Appendix A.1).

* MLM: 15% of the real tokens are chosen for prediction; of those 80% become [MASK], 10%
  a random token and 10% stay as they are, so the model cannot tell which inputs are
  real and must keep a good vector for every token. The label is the original id at a
  chosen position and -100 (ignored by the loss) everywhere else.
* NSP: half of the pairs (a, b) are two consecutive sentences of one document (IsNext,
  label 0), half pair a with a sentence of another document (NotNext, label 1): the
  label convention of Hugging Face's BertForPreTraining.
* Input layout: [CLS] a [SEP] b [SEP], segment (token_type) 0 up to the first [SEP] and 1
  after it; batches are right-padded with pad_id and carry an attention_mask (1 = real).

Special ids follow lmlib.text: <pad>=0 <unk>=1 <s>=2 </s>=3 [CLS]=4 [SEP]=5 [MASK]=6.
Shapes: B batch, T sequence length.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Sequence

import torch

from .base import (MASK_ID, PAD_ID, SPECIAL_TOKENS, as_str_list, check_bool, check_int,
                   check_int_ids, check_token_id, eval_mode, length_mask, pad_batch)

SPECIAL_IDS = tuple(range(len(SPECIAL_TOKENS)))  # never masked nor drawn
IS_NEXT, NOT_NEXT = 0, 1


def _check_tokenizer(tokenizer: object, needs: tuple[str, ...]) -> None:
    """tokenizer must be an lmlib.tokenizer.Tokenizer (or have what this function reads of one)."""
    if isinstance(tokenizer, (str, bytes)) or not all(hasattr(tokenizer, a) for a in needs):
        raise TypeError(f"tokenizer must be an lmlib.tokenizer.Tokenizer (with {', '.join(needs)}), "
                        f"got {type(tokenizer).__name__}")


def mask_tokens(ids: torch.Tensor, vocab_size: int, mask_id: int = MASK_ID,
                special_ids: Sequence[int] = SPECIAL_IDS, mask_prob: float = 0.15,
                generator: torch.Generator | None = None,
                word_starts: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """ids (B, T) -> (masked input (B, T), labels (B, T)) for masked word prediction.

    Each row gets max(1, round(mask_prob * n)) predicted positions among its n tokens that
    are not special (pad included), as BERT's create_masked_lm_predictions does, so every
    row with a real token gives the loss something. Those become [MASK] (80%), a random
    non-special id (10%) or stay (10%). labels: the original id there, -100 elsewhere.
    The same `generator` state gives the same masks.

    word_starts (B, T) bool, True where a token begins a word (False on a WordPiece "##"
    continuation): whole-word masking. Words, not tokens, are drawn in random order until
    the tokens of the words drawn before reach the row's count, so every piece of a chosen
    word is predicted (the last word may take the count a little past it), and the 80/10/10
    choice is made once per word.
    """
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.dtype != torch.long \
            or 0 in ids.shape:
        got = f"{tuple(ids.shape)} {ids.dtype}" if isinstance(ids, torch.Tensor) \
            else type(ids).__name__
        error = ValueError if isinstance(ids, torch.Tensor) else TypeError
        raise error(f"ids must be a (B, T) LongTensor of token ids, B and T >= 1, got {got}")
    check_int(vocab_size, "vocab_size", low=1)
    check_token_id(mask_id, "mask_id", vocab_size)
    if isinstance(special_ids, torch.Tensor):
        special_ids = special_ids.tolist()
    if isinstance(special_ids, str) or not isinstance(special_ids, Sequence):
        raise TypeError(f"special_ids must be a list of int ids, got {type(special_ids).__name__}")
    for k, i in enumerate(special_ids):
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"special_ids[{k}] must be an int id, got {type(i).__name__} {i!r}")
    special = sorted({check_token_id(i, f"special_ids[{k}]", vocab_size)
                      for k, i in enumerate(special_ids)})
    if mask_id not in special:
        raise ValueError(f"special_ids must include mask_id={mask_id} (a [MASK] is never "
                         f"masked again nor drawn), got {special}")
    if len(special) >= vocab_size:
        raise ValueError(f"special_ids cover all vocab_size={vocab_size} ids: that leaves no "
                         f"ordinary token to draw at random")
    if isinstance(mask_prob, bool) or not isinstance(mask_prob, (int, float)) \
            or not 0 < mask_prob < 1:
        raise ValueError(f"mask_prob must be a number in (0, 1), got {mask_prob!r}")
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must be in [0, vocab_size={vocab_size}), got values in "
                         f"[{int(ids.min())}, {int(ids.max())}]")

    if word_starts is not None and (not isinstance(word_starts, torch.Tensor)
                                    or word_starts.dtype != torch.bool
                                    or word_starts.shape != ids.shape):
        got = f"{tuple(word_starts.shape)} {word_starts.dtype}" \
            if isinstance(word_starts, torch.Tensor) else type(word_starts).__name__
        error = ValueError if isinstance(word_starts, torch.Tensor) else TypeError
        raise error(f"word_starts must be a bool tensor shaped like ids {tuple(ids.shape)}, "
                    f"got {got}")

    eligible = ~torch.isin(ids, torch.tensor(special, device=ids.device))  # (B, T)
    n = eligible.sum(1)  # (B,) real tokens per row
    k = torch.where(n > 0, (n * mask_prob).round().clamp(min=1), 0)  # (B,) positions to predict
    # Random scores, ineligible positions last; a position is chosen if its rank is < k.
    scores = torch.rand(ids.shape, generator=generator).to(ids.device).masked_fill(~eligible, 2.0)
    u = torch.rand(ids.shape, generator=generator).to(ids.device)  # which of 80/10/10
    if word_starts is None:
        rank = scores.argsort(1).argsort(1)  # (B, T): 0 = lowest score
        chosen = rank < k[:, None]  # (B, T)
    else:
        # Each token takes the score of its word's first token (the latest start at or before
        # it); a stable sort then keeps a word's tokens together, and a word is chosen when
        # fewer than k eligible tokens come before it.
        starts = word_starts.to(ids.device) | ~eligible
        positions = torch.arange(ids.size(1), device=ids.device).expand_as(ids)
        start_of = torch.where(starts, positions, 0).cummax(1).values  # (B, T)
        word_score = scores.gather(1, start_of).masked_fill(~eligible, 2.0)
        order = torch.sort(word_score, dim=1, stable=True).indices
        elig_sorted = eligible.gather(1, order).long()
        before = torch.empty_like(elig_sorted).scatter_(1, order, elig_sorted.cumsum(1) - elig_sorted)
        chosen = (before < k[:, None]).gather(1, start_of) & eligible
        u = u.gather(1, start_of)  # one 80/10/10 draw per word
    ordinary = torch.tensor([i for i in range(vocab_size) if i not in special], device=ids.device)
    draw = torch.randint(len(ordinary), ids.shape, generator=generator).to(ids.device)
    masked = ids.clone()
    masked[chosen & (u < 0.8)] = mask_id
    rand = chosen & (u >= 0.8) & (u < 0.9)
    masked[rand] = ordinary[draw[rand]]  # the other 10%: left as they are
    labels = ids.masked_fill(~chosen, -100)
    return masked, labels


def nsp_pairs(documents: Sequence[Sequence[str]], n_pairs: int,
              seed: int = 0) -> list[tuple[str, str, int]]:
    """n_pairs (a, b, label): label 0 (IsNext) if b follows a in one document, 1 (NotNext)
    if b is a random sentence of another document; each with probability 1/2."""
    if isinstance(documents, str) or not isinstance(documents, Sequence):
        raise TypeError(f"documents must be a list of documents, each a list of sentences, got "
                        f"{type(documents).__name__}")
    for i, d in enumerate(documents):
        if not isinstance(d, (str, Sequence)):  # a set or generator would give no fixed order
            raise TypeError(f"documents[{i}] must be a list of sentences, got {type(d).__name__}")
    docs = [as_str_list(d, f"documents[{i}]", allow_empty=True) for i, d in enumerate(documents)]
    docs = [d for d in docs if d]
    check_int(n_pairs, "n_pairs", low=1)
    check_int(seed, "seed")
    long_docs = [i for i, d in enumerate(docs) if len(d) >= 2]
    if len(docs) < 2 or not long_docs:
        raise ValueError("documents must hold at least 2 non-empty documents, one of them with "
                         "2 or more sentences (for IsNext pairs)")
    rng = random.Random(seed)
    pairs = []
    for _ in range(n_pairs):
        if rng.random() < 0.5:
            d = rng.choice(long_docs)
            i = rng.randrange(len(docs[d]) - 1)
            pairs.append((docs[d][i], docs[d][i + 1], IS_NEXT))
        else:
            d = rng.randrange(len(docs))
            other = rng.randrange(len(docs) - 1)  # any document but d, in O(1)
            other += other >= d
            pairs.append((rng.choice(docs[d]), rng.choice(docs[other]), NOT_NEXT))
    return pairs


def encode_pair(tokenizer, a: str, b: str | None = None,
                max_len: int = 128) -> tuple[list[int], list[int]]:
    """[CLS] a [SEP] b [SEP] (or [CLS] a [SEP] without b) -> (ids, token_type_ids).

    Segments: 0 for [CLS] a [SEP], 1 for b [SEP]. Too long a pair is cut at the end of
    the longer side, one token at a time, until it fits in max_len.
    """
    _check_tokenizer(tokenizer, ("encode", "cls_id", "sep_id"))
    if not isinstance(a, str):
        raise TypeError(f"a must be a str (the first sentence), got {type(a).__name__}")
    if b is not None and not isinstance(b, str):
        raise TypeError(f"b must be a str (the second sentence) or None, got {type(b).__name__}")
    n_special = 2 if b is None else 3
    check_int(max_len, "max_len", low=n_special)
    ta = tokenizer.encode(a)
    tb = [] if b is None else tokenizer.encode(b)
    while len(ta) + len(tb) > max_len - n_special:
        (ta if len(ta) >= len(tb) else tb).pop()
    cls, sep = tokenizer.cls_id, tokenizer.sep_id
    ids = [cls, *ta, sep] + ([] if b is None else [*tb, sep])
    segments = [0] * (len(ta) + 2) + ([] if b is None else [1] * (len(tb) + 1))
    return ids, segments


def collate_pairs(encoded: Sequence[tuple[Sequence[int], Sequence[int]]],
                  pad_id: int = PAD_ID) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """[(ids, token_type_ids), ...] from encode_pair -> input_ids, token_type_ids,
    attention_mask, each (B, T), right-padded (pad_id, segment 0, mask 0)."""
    what = "a non-empty list of (ids, token_type_ids) pairs of equal length, as encode_pair returns"
    if isinstance(encoded, (str, bytes, torch.Tensor)) or not isinstance(encoded, Sequence):
        raise TypeError(f"encoded must be {what}, got {type(encoded).__name__}")
    if not encoded:
        raise ValueError(f"encoded must be {what}, got an empty list")
    for i, e in enumerate(encoded):
        if isinstance(e, (str, bytes)) or not hasattr(e, "__len__") or len(e) != 2 \
                or any(isinstance(x, (str, bytes)) or not hasattr(x, "__len__") for x in e):
            raise ValueError(f"encoded[{i}] must be an (ids, token_type_ids) pair of id lists, as "
                             f"encode_pair returns, got {e!r:.60}")
        if len(e[0]) != len(e[1]):
            raise ValueError(f"encoded[{i}] has {len(e[0])} ids but {len(e[1])} token_type_ids; "
                             f"expected {what}")
        for j, seq in enumerate(e):
            check_int_ids(seq, f"encoded[{i}][{j}]")
    input_ids, lengths = pad_batch([e[0] for e in encoded], pad_id)  # (B, T), (B,)
    token_type_ids, _ = pad_batch([e[1] for e in encoded], 0)  # (B, T)
    mask = length_mask(lengths, input_ids.size(1))  # (B, T), True at real tokens
    return input_ids, token_type_ids, mask.long()


def word_start_table(tokenizer) -> torch.Tensor:
    """(V,) bool: True for ids that begin a word, False for WordPiece "##" continuations."""
    _check_tokenizer(tokenizer, ("id_to_token", "vocab_size"))
    return torch.tensor([not tokenizer.id_to_token(i).startswith("##")
                         for i in range(tokenizer.vocab_size)])


def pretraining_batch(tokenizer, pairs: Sequence[tuple[str, str, int]], max_len: int = 128,
                      mask_prob: float = 0.15, generator: torch.Generator | None = None,
                      whole_word: bool = False,
                      starts_table: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """nsp_pairs' (a, b, label) -> keyword arguments for BertForPreTraining: input_ids
    (masked), token_type_ids, attention_mask, mlm_labels (B, T) and nsp_labels (B,).

    whole_word=True masks whole words (mask_tokens' word_starts); a word is what the
    tokenizer's pre-tokenizer made (an eojeol, or a Kiwi morpheme with pre_tokenize="morph").
    starts_table: word_start_table(tokenizer), to compute it once rather than per batch."""
    what = "a non-empty list of (a, b, label), as nsp_pairs returns"
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise TypeError(f"pairs must be {what}, got {type(pairs).__name__}")
    if not pairs:
        raise ValueError(f"pairs must be {what}, got an empty list")
    for i, pair in enumerate(pairs):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 3:
            raise ValueError(f"pairs[{i}] must be an (a, b, label) triple, as nsp_pairs returns, "
                             f"got {pair!r:.60}")
        for j in (0, 1):
            if not isinstance(pair[j], str):
                raise TypeError(f"pairs[{i}][{j}] must be a str (sentence {'ab'[j]}), got "
                                f"{type(pair[j]).__name__} {pair[j]!r:.40}")
        label = pair[2]
        if isinstance(label, bool) or not isinstance(label, numbers.Integral):
            raise TypeError(f"pairs[{i}][2] (the label) must be the int {IS_NEXT} (IsNext) or "
                            f"{NOT_NEXT} (NotNext), got {type(label).__name__} {label!r}")
        if label not in (IS_NEXT, NOT_NEXT):
            raise ValueError(f"pairs[{i}][2] (the label) must be {IS_NEXT} (IsNext) or "
                             f"{NOT_NEXT} (NotNext), got {label!r}")
    check_bool(whole_word, "whole_word")
    _check_tokenizer(tokenizer, ("encode", "cls_id", "sep_id", "pad_id", "mask_id", "vocab_size"))
    encoded = [encode_pair(tokenizer, a, b, max_len) for a, b, _ in pairs]
    input_ids, token_type_ids, attention_mask = collate_pairs(encoded, tokenizer.pad_id)
    starts = None
    if whole_word:
        table = word_start_table(tokenizer) if starts_table is None else starts_table
        if table.shape != (tokenizer.vocab_size,) or table.dtype != torch.bool:
            raise ValueError(f"starts_table must be word_start_table(tokenizer): a ({tokenizer.vocab_size},) "
                             f"bool tensor, got {tuple(table.shape)} {table.dtype}")
        starts = table[input_ids]
    masked, mlm_labels = mask_tokens(input_ids, tokenizer.vocab_size, tokenizer.mask_id,
                                     mask_prob=mask_prob, generator=generator, word_starts=starts)
    return dict(input_ids=masked, token_type_ids=token_type_ids, attention_mask=attention_mask,
                mlm_labels=mlm_labels,
                nsp_labels=torch.tensor([label for _, _, label in pairs], dtype=torch.long))


# -- using a pretrained MLM -------------------------------------------------------------

@torch.no_grad()
def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> list[list[tuple[str, float]]]:
    """For each [MASK] in text, the top_k tokens and probabilities of a BertForPreTraining."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model must be a BertForPreTraining, got {type(model).__name__}")
    _check_tokenizer(tokenizer, ("encode", "cls_id", "sep_id", "mask_id", "id_to_token"))
    if not isinstance(text, str) or "[MASK]" not in text:
        error = ValueError if isinstance(text, str) else TypeError
        raise error(f"text must be a str with at least one [MASK], got {text!r}")
    check_int(top_k, "top_k", low=1)
    ids, seg = encode_pair(tokenizer, text, None, model.config.max_len)
    if tokenizer.mask_id not in ids:
        raise ValueError(f"text's [MASK] lies past the model's max_len={model.config.max_len} "
                         f"tokens and was cut off; shorten the text before the [MASK]")
    with eval_mode(model):
        logits = model(torch.tensor([ids]), torch.tensor([seg])).mlm_logits[0]  # (T, V)
    out = []
    for t in (torch.tensor(ids) == tokenizer.mask_id).nonzero().flatten().tolist():
        probs = logits[t].softmax(-1)
        top = torch.topk(probs, min(top_k, probs.numel()))  # top_k > V: every token
        out.append([(tokenizer.id_to_token(int(i)), float(p)) for p, i in zip(top.values, top.indices)])
    return out


class MLMBlankScorer:
    """Rank the words for a lmlib.blanks.Blank with BERT's MLM: [MASK] at the blank, both
    sides as context. Candidates must be single tokens of the tokenizer (one [MASK] each),
    so the scores are log P(word | left, right) read off one forward pass."""

    def __init__(self, model, tokenizer, candidates) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.candidates = sorted(set(as_str_list(candidates, "candidates")))
        ids = []
        for w in self.candidates:
            enc = tokenizer.encode(w)
            if len(enc) != 1 or enc[0] == tokenizer.unk_id:
                got = f"{len(enc)} tokens" if len(enc) != 1 else "it encodes as <unk>"
                raise ValueError(f"candidates holds {w!r}, which is not one known token ({got}): "
                                 f"keep single-token words only (see single_token_words)")
            ids.append(enc[0])
        self._ids = torch.tensor(ids)

    @torch.no_grad()
    def scores(self, blank) -> dict[str, float]:
        """log P(word | both sides) for every candidate (BERT's softmax over its vocabulary)."""
        tok = self.tokenizer
        left = tok.encode(" ".join(blank.left)) if blank.left else []
        right = tok.encode(" ".join(blank.right)) if blank.right else []
        budget = self.model.config.max_len - 3  # [CLS] ... [MASK] ... [SEP]
        while len(left) + len(right) > budget:  # keep the words nearest the blank
            if len(left) >= len(right):
                left.pop(0)
            else:
                right.pop()
        ids = [tok.cls_id, *left, tok.mask_id, *right, tok.sep_id]
        seg, pos = [0] * len(ids), len(left) + 1
        with eval_mode(self.model):
            logits = self.model(torch.tensor([ids]), torch.tensor([seg])).mlm_logits[0, pos]
        logp = logits.log_softmax(-1)[self._ids]
        return dict(zip(self.candidates, logp.tolist()))

    def rank_blank(self, blank, top_k: int | None = None) -> list[tuple[str, float]]:
        """Candidates sorted by score, best first (ties broken by the word)."""
        check_int(top_k, "top_k", low=1, allow_none=True)
        ranked = sorted(self.scores(blank).items(), key=lambda ws: (-ws[1], ws[0]))
        return ranked[:top_k]


def single_token_words(tokenizer, words) -> list[str]:
    """The words that the tokenizer keeps whole (one token, not <unk>)."""
    return sorted(w for w in set(as_str_list(words, "words", allow_empty=True))
                  if len(enc := tokenizer.encode(w)) == 1 and enc[0] != tokenizer.unk_id)
