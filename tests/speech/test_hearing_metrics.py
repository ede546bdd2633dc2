"""Word error rate and key-term recall on toy strings (bench/hearing_metrics.py)."""
from __future__ import annotations

import numpy as np
import pytest

from bestbox.bench.hearing import mix
from bestbox.bench.hearing_metrics import has_term, norm_words, term_recall, wer


def test_wer_counts_substitutions_deletions_insertions():
    assert wer("are any invoices overdue", "Are any invoices overdue?") == 0.0
    assert wer("are any invoices overdue", "are any been voicing overdue") == pytest.approx(2 / 4)  # 1 sub + 1 ins
    assert wer("close early", "glow early") == pytest.approx(1 / 2)
    assert wer("close early", "") == 1.0
    assert wer("book a room at ten", "book a room at 10") == 0.0  # number words and digits are one


def test_key_terms_are_whole_words_in_order():
    assert has_term("Did the backup finish without errors?", "without errors")
    assert not has_term("slack up, finish with our terrorism", "backup")
    assert not has_term("errors without", "without errors")
    assert not has_term("the vendorship", "vendor")
    assert norm_words("15% of 80") == ["15", "percent", "of", "80"]


def test_term_recall_over_a_set():
    pairs = [("are any invoices overdue", ["invoices", "overdue"]),
             ("been voicing over to", ["invoices", "overdue"]),
             ("glow early", ["close early"]), ("can we close early", ["close early"])]
    assert term_recall(pairs) == pytest.approx(3 / 6)
    assert term_recall([]) is None


def test_noise_is_mixed_at_the_asked_snr():
    rng = np.random.default_rng(0)
    s, n = rng.standard_normal(16000).astype(np.float32), rng.standard_normal(16000).astype(np.float32)
    noise = mix(s, n, 10.0) - s
    assert 10 * np.log10(np.mean(s ** 2) / np.mean(noise ** 2)) == pytest.approx(10.0, abs=0.01)
