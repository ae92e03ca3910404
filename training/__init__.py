"""Fine-tuning (SFT, DPO) and evaluation of the twin: plain Python on TRL + PEFT, reading dataset exports."""

import warnings

# TRL 1.16 still asks transformers 5 for `is_gradient_checkpointing`: a deprecation users can do nothing about.
warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
