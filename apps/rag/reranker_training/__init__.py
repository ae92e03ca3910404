"""Fine-tuning the rerank node's cross-encoder on the twin's own corpus (``manage.py train_reranker``).

``service`` runs the steps (``reranker_train``); ``questions`` (pseudo-questions, pure), ``mining`` (hard
negatives by retrieval), ``pairs`` (split and labelled pairs, pure), ``training`` (CrossEncoderTrainer),
``evaluation`` and ``metrics`` (held-out hit@1 / MRR@10) and ``versions`` (save and register) do them.
Nothing is imported here, so the pure modules load without Django.
"""
