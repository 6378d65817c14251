"""lmlib: the hand-written library behind the 언어모델 코스북 (Korean course book on language models).

One module per lecture idea, dependencies running one way like the lecture:
text -> ngram; attention -> seq2seq, transformer -> gpt, bert.
This file stays light: importing lmlib imports no torch, transformers or ipywidgets.
"""

__version__ = "0.1.0"
