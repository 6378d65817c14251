"""Build lmlib/data/senses.tsv: held-out NSMC sentences for chapter 8's two-senses test (L23).

Three words, two senses each, that both occur in the movie-review crawl:
눈 (snow / eye), 배 (belly / ship), 말 (speech / horse). A pattern per sense proposes
sentences from unlabeled_reviews.txt and the local test split (the target word at the start
of an eojeol, followed by a context that fixes its sense); a person then read every proposed
sentence of the rare senses, and every sampled one of the frequent senses, and REJECTED
lists those where the pattern was wrong (눈길 "gaze" is not snow, 배가 뒤집어진다 is laughter,
"눈사람" as a drama title, ...). From each sense's accepted sentences a seeded sample is
taken (SAMPLE); a rare sense keeps the rest in the pretraining text, so the model has seen it.
scripts/pretrain_bert.py leaves every review in the file out of pretraining: the sentences
are held out. Made by exactly:

    .venv/bin/python scripts/make_sense_set.py --data-dir $LMLIB_NSMC_DIR

Columns: id, word, sense, start (character offset of the target eojeol), review text
(from the NSMC crawl, CC0 1.0).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_START = r"(?:^|(?<=[\s.,!?~\"'()]))"  # the word begins an eojeol
PATTERNS = {
    ("눈", "하늘에서 내리는 눈"): _START + r"눈(?:이|은|도|이 펑펑)?\s?(?:내리|내린|내려|내렸|오는 날|"
                                   r"오는날|펑펑|쌓|덮|사람|싸움|밭|송이|보라|꽃|발이)",
    ("눈", "얼굴의 눈"): _START + r"눈(?:을|이)?\s?(?:뗄|떼|감고|감아|뜨고|뜰|즐겁|즐거|호강|부시|마주)",
    ("배", "몸의 배"): _START + r"배(?:가|를)?\s?(?:아프|아파|잡고|찢어|터지|고프|고파|불러|부르)",
    ("배", "타는 배"): _START + r"배(?:를|가|에|에서|는|도|의)?\s?(?:타고|타는|탔|탄|침몰|가라앉|선장|"
                              r"선원|항해|위에서|위|한척|한 척|안에서|안|출항|뒤집|떠나|들어오)",
    ("말", "하는 말"): _START + r"말(?:도|만|로)\s?(?:안되|안 되|잘|못|많)",
    ("말", "타는 말"): _START + r"말(?:을|에|에서|도)?\s?(?:타고|타는|탄|탔|달리|달려|한마리|한 마리|떼|"
                              r"고삐|발굽|에서 내|에서 떨어)",
}
# Read by hand and rejected: the pattern matched, the sense is not the pattern's.
REJECTED = {
    "7281274": "거울보고 눈싸움: a staring contest (eye)",
    "8544405": "눈사람: a drama's title", "9491486": "눈사람: a drama's title",
    "8798060": "눈사람: most likely the drama's title", "7697010": "눈사람: unclear which",
    "8161192": "눈송이: a character's name", "9349885": "눈꽃처럼: a song title",
    "9852948": "배안고프고: not hungry (belly)", "6533911": "배안의분위기: unclear which",
    "1327536": "배가 뒤집어진다: laughter (belly)",
}
SAMPLE = 45  # sentences held out per sense
RARE_SHARE = 0.55  # a rare sense (fewer than 2 * SAMPLE accepted) holds out this share, >= 20


def candidates(data_dir: str | None):
    from lmlib.data import load_nsmc, load_unlabeled_reviews

    rows = [(r.id, r.document) for r in load_unlabeled_reviews(data_dir)]
    rows += [(r.id, r.document) for r in load_nsmc("test", data_dir=data_dir)]
    out = {}
    for key, pattern in PATTERNS.items():
        regex = re.compile(pattern)
        found = []
        for rid, text in rows:
            m = regex.search(text)
            if m and str(rid) not in REJECTED:
                found.append((str(rid), m.start(), text))
        out[key] = found
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=str(ROOT / "lmlib" / "data" / "senses.tsv"))
    args = p.parse_args(argv)
    lines, seen = ["id\tword\tsense\tstart\ttext"], set()
    for (word, sense), found in candidates(args.data_dir).items():
        found = sorted(set(found))
        random.Random(0).shuffle(found)
        n = SAMPLE if len(found) >= 2 * SAMPLE else max(20, int(len(found) * RARE_SHARE))
        picked = [f for f in found if f[0] not in seen][:n]
        seen |= {f[0] for f in picked}
        print(f"{word} ({sense}): {len(found)} accepted, {len(picked)} held out")
        lines += [f"{rid}\t{word}\t{sense}\t{start}\t{text}" for rid, start, text in picked]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
