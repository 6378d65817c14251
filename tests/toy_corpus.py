"""The five-sentence toy corpus (eojeol tokens) the tests share: small enough to count by hand."""

TOY = [s.split() for s in [
    "나는 어제 카페에 갔다",
    "나는 오늘 학교에 갔다",
    "어제 카페에 사람이 많았다",
    "오늘 카페에 갔다",
    "나는 어제 학교에 갔다",
]]
