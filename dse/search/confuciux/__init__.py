"""ConfuciuX and ConfuciuX-TF (paper 001): RL resource assignment plus GA fine-tuning.

env.py (levels, one shared design, area budget), policy_lstm.py / policy_tf.py (the two
policy networks), reinforce.py (the agent), finetune_ga.py (second stage), searcher.py
(the registered `confuciux` and `confuciux-tf`)."""

from . import searcher

__all__ = ["searcher"]
