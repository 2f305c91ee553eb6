"""``training.distill_gpu.perturb``: the perturbed copies the GPU student is trained on (torch is
a training dependency: these run where ``.[train]`` is installed and are skipped elsewhere)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training import distill_gpu  # noqa: E402

CLS, SEP = distill_gpu.CLS, distill_gpu.SEP


def _batch():
    rows = [[CLS, 7, 8, 9, 10, SEP], [CLS, 20, 21, SEP], [CLS, 30, 31, 32, 33, 34, 35, SEP]]
    width = max(map(len, rows))
    ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    return rows, ids, mask


def _rows(ids, mask) -> list[list[int]]:
    return [[int(t) for t, m in zip(r, k) if m] for r, k in zip(ids, mask)]


def test_every_token_dropped_leaves_cls_and_sep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distill_gpu, "PERTURBED", 1.0)
    monkeypatch.setattr(distill_gpu, "DROP", 1.0)
    monkeypatch.setattr(distill_gpu, "SWAP", 0.0)
    _, ids, mask = _batch()
    new_ids, new_mask, rows = distill_gpu.perturb(ids, mask, torch.Generator().manual_seed(0))
    assert rows.tolist() == [True, True, True]
    assert new_ids.tolist() == [[CLS, SEP]] * 3 and new_mask.tolist() == [[1, 1]] * 3


def test_no_row_perturbed_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distill_gpu, "PERTURBED", 0.0)
    rows, ids, mask = _batch()
    new_ids, new_mask, perturbed = distill_gpu.perturb(ids, mask, torch.Generator().manual_seed(0))
    assert perturbed.tolist() == [False, False, False]
    assert _rows(new_ids, new_mask) == rows and new_ids.shape == ids.shape


def test_dropped_tokens_close_up_in_order_and_swaps_come_from_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distill_gpu, "PERTURBED", 1.0)
    monkeypatch.setattr(distill_gpu, "DROP", 0.4)
    monkeypatch.setattr(distill_gpu, "SWAP", 0.0)
    rows, ids, mask = _batch()
    for seed in range(20):
        new = _rows(*distill_gpu.perturb(ids, mask, torch.Generator().manual_seed(seed))[:2])
        for before, after in zip(rows, new):
            assert after[0] == CLS and after[-1] == SEP
            inner = iter(before[1:-1])  # what is left is a subsequence of the row, in its order
            assert all(any(t == u for u in inner) for t in after[1:-1])
    monkeypatch.setattr(distill_gpu, "DROP", 0.0)
    monkeypatch.setattr(distill_gpu, "SWAP", 1.0)
    inner_tokens = {t for r in rows for t in r[1:-1]}
    swapped = 0
    for seed in range(20):
        new = _rows(*distill_gpu.perturb(ids, mask, torch.Generator().manual_seed(seed))[:2])
        assert [len(r) for r in new] == [len(r) for r in rows]  # a swap keeps the length
        assert all(r[0] == CLS and r[-1] == SEP and set(r[1:-1]) <= inner_tokens for r in new)
        swapped += sum(a != b for r, q in zip(rows, new) for a, b in zip(r, q))
    assert swapped > 20 * 14 / 2  # every inner token swapped for one of 14: most of them differ
