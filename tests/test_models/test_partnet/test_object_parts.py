"""ObjectPartInferencer vs a literal per-object transcription of the reference's PartGenerator."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmipose.models.partnet import ObjectPartInferencer, PartNet, SupportBank


def literal_part_generator(partnet, bank, inst, objects):
    """The authors' PartGenerator crop rule, one object at a time, one PartNet call per object."""
    b, _, H, W = inst.shape
    feats = torch.zeros(b, 288, H, W)
    logits = torch.zeros(b, 9, H, W)
    encoding = bank.encoding(partnet)
    for bi in range(b):
        for row in objects[bi].tolist():
            v, cat, hs, he, ws, we, H0, W0 = row
            if cat not in bank.categories:
                continue
            hs, ws, he, we = max(0, hs - 2), max(0, ws - 2), min(he + 2, H), min(we + 2, W)
            if (he - hs) % 2 == 1 and he + 1 <= H:
                he += 1
            if (he - hs) % 2 == 1 and hs - 1 >= 0:
                hs -= 1
            if (we - ws) % 2 == 1 and we + 1 <= W:
                we += 1
            if (we - ws) % 2 == 1 and ws - 1 >= 0:
                ws -= 1
            mask = (inst[bi, 0] == v).float()[hs:he, ws:we][None, None]
            h, w = mask.shape[-2:]
            if H0 > W0:
                mask = F.interpolate(mask, size=(int(h * H0 / W0), w), mode='nearest')
            elif W0 > H0:
                mask = F.interpolate(mask, size=(h, int(w * W0 / H0)), mode='nearest')
            hh, ww = mask.shape[-2:]
            if hh > ww:
                r = (hh - ww) // 2
                mask = F.pad(mask, (r, r, 0, 0))
                crop, rs = [0, 0, r, -r], hh
            elif ww > hh:
                r = (ww - hh) // 2
                mask = F.pad(mask, (0, 0, r, r))
                crop, rs = [r, -r, 0, 0], ww
            else:
                crop, rs = [0, 0, 0, 0], hh
            query = F.interpolate(mask, size=(64, 64), mode='nearest')
            idx = bank.index_of(torch.tensor([cat]))
            with torch.no_grad():
                f, lg = partnet(query, idx, encoding)

            def back(x, mode):
                kw = dict(align_corners=False) if mode == 'bilinear' else {}
                x = F.interpolate(x, size=(rs, rs), mode=mode, **kw)
                x = x[:, :, crop[0]:rs + crop[1], crop[2]:rs + crop[3]]
                if H0 != W0:
                    x = F.interpolate(x, size=(he - hs, we - ws), mode=mode, **kw)
                return x

            m = back(query, 'nearest')[0]
            feats[bi, :, hs:he, ws:we] = feats[bi, :, hs:he, ws:we] * (1 - m) + back(f, 'bilinear')[0] * m
            logits[bi, :, hs:he, ws:we] = logits[bi, :, hs:he, ws:we] * (1 - m) + back(lg, 'nearest')[0] * m
    return feats, logits


@pytest.fixture(scope='module')
def parts():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    bank = SupportBank.from_arrays({26: rng.integers(0, 6, (3, 64, 64)), 24: rng.integers(0, 4, (3, 64, 64))})
    partnet = PartNet()
    for p in partnet.parameters():  # larger weights than the 0.02-gain init: non-trivial outputs
        torch.nn.init.normal_(p, std=0.1)
    partnet.eval()
    return partnet, bank


def _scene():
    H, W = 48, 80
    inst = torch.zeros(2, 1, H, W, dtype=torch.long)
    inst[0, 0, 0:17, 0:9] = 1  # at the top-left border, odd sizes
    inst[0, 0, 10:40, 30:75] = 2  # wide
    inst[0, 0, 20:30, 60:80] = 3  # overlaps object 2, touches the right border
    inst[1, 0, 5:44, 10:21] = 7  # tall
    inst[1, 0, 40:48, 50:53] = 8  # bottom border, thin
    objects = [
        torch.tensor([[1, 26, 0, 16, 0, 8, 1, 1], [2, 24, 10, 39, 30, 74, 1, 1], [3, 26, 20, 29, 60, 79, 1, 1]]),
        torch.tensor([
            [7, 24, 5, 43, 10, 20, 300, 200],  # H0 > W0: aspect-restored crop
            [8, 26, 40, 47, 50, 52, 200, 500],  # W0 > H0
            [9, 99, 0, 4, 0, 4, 1, 1]
        ]),  # category without supports: skipped
    ]
    return inst, objects


def test_matches_literal_per_object_implementation(parts):
    partnet, bank = parts
    inst, objects = _scene()
    inferencer = ObjectPartInferencer(partnet, bank, chunk_size=2)
    with pytest.warns(UserWarning, match=r'part category id\(s\) \[99\]'):
        feats, logits = inferencer(inst, objects)
    ref_feats, ref_logits = literal_part_generator(partnet, bank, inst, objects)
    assert feats.shape == (2, 288, 48, 80) and logits.shape == (2, 9, 48, 80)
    assert (ref_logits.abs().sum(1) > 0).sum() > 500  # objects really got parts
    assert torch.equal(logits, ref_logits)
    assert torch.allclose(feats, ref_feats, atol=1e-5)
    # nothing is pasted outside the (expanded) boxes
    assert logits[0, :, 42:, 10:25].abs().max() == 0 and feats[1, :, :, 60:].abs().max() == 0


def test_chunking_and_zero_objects(parts):
    partnet, bank = parts
    inst, objects = _scene()
    objects = [objects[0], objects[1][:2]]
    a = ObjectPartInferencer(partnet, bank, chunk_size=1)(inst, objects)
    b = ObjectPartInferencer(partnet, bank)(inst, objects)
    assert torch.equal(a[1], b[1]) and torch.allclose(a[0], b[0], atol=1e-6)
    empty = [torch.zeros(0, 8, dtype=torch.long)] * 2
    f, lg = ObjectPartInferencer(partnet, bank)(inst, empty)
    assert f.abs().sum() == 0 and lg.abs().sum() == 0


def test_tiny_objects_are_finite_and_partnet_frozen(parts):
    partnet, bank = parts
    inst = torch.zeros(1, 1, 16, 16, dtype=torch.long)
    inst[0, 0, 5, 5] = 4
    inferencer = ObjectPartInferencer(PartNet(), bank)
    f, lg = inferencer(inst, [torch.tensor([[4, 26, 5, 5, 5, 5, 1, 1], [5, 24, 2, 4, 2, 4, 1, 1]])])
    assert torch.isfinite(f).all() and torch.isfinite(lg).all()
    assert not any(p.requires_grad for p in inferencer.partnet.parameters())
    inferencer.train()
    assert not inferencer.partnet.training


def test_box_over_a_whole_odd_side_is_resized_into_the_box(parts):
    """The even rule cannot fix an extent equal to an odd image side; the reference's paste then
    fails, ours resizes the sliced output to the box (documented fix)."""
    partnet, bank = parts
    inst = torch.zeros(1, 1, 15, 20, dtype=torch.long)
    inst[0, 0, :, 6:10] = 3  # rows 0..14 of an odd height 15
    inst[0, 0, 2:6, 14:18] = 4  # an ordinary object for comparison
    objects = [torch.tensor([[4, 24, 2, 5, 14, 17, 1, 1], [3, 26, 0, 14, 6, 9, 1, 1]])]
    feats, logits = ObjectPartInferencer(partnet, bank)(inst, objects)
    assert torch.isfinite(feats).all() and logits[0, :, :, 4:12].abs().sum() > 0
    assert logits[0, :, :, :4].abs().max() == 0 and logits[0, :, :, 12].abs().max() == 0
    ref_feats, ref_logits = literal_part_generator(partnet, bank, inst, [objects[0][:1]])
    assert torch.equal(logits[..., 12:], ref_logits[..., 12:])


def test_partnet_checkpoint_is_loaded_and_missing_file_named(parts, tmp_path):
    """PartNet weights are given in one place, ``PartNet(checkpoint=...)``."""
    partnet, bank = parts
    path = tmp_path / 'partnet.pth'
    torch.save(partnet.state_dict(), path)
    inferencer = ObjectPartInferencer(dict(type='PartNet', checkpoint=str(path)), bank)
    for name, value in partnet.state_dict().items():
        assert torch.equal(inferencer.partnet.state_dict()[name], value), name
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        ObjectPartInferencer(dict(type='PartNet', checkpoint=str(tmp_path / 'missing.pth')), bank)
    with pytest.raises(TypeError, match='partnet_checkpoint'):
        ObjectPartInferencer(PartNet(), bank, partnet_checkpoint=str(path))


@pytest.mark.slow
def test_more_than_200_objects_match_the_literal_implementation(parts):
    """220 objects in one image (a crowd): Cityscapes-style ids 24001.. / 26001.., overlapping boxes,
    one batched call in chunks of 64 gives the same maps as 220 separate PartNet calls."""
    partnet, bank = parts
    H, W = 64, 256
    inst = torch.zeros(1, 1, H, W, dtype=torch.long)
    rows = []
    rng = np.random.default_rng(1)
    for k in range(220):
        category = 24 if k % 2 else 26
        value = category * 1000 + k + 1
        h, w = int(rng.integers(3, 12)), int(rng.integers(3, 12))
        top, left = int(rng.integers(0, H - h)), int(rng.integers(0, W - w))
        inst[0, 0, top:top + h, left:left + w] = value  # later objects overwrite earlier ones
        rows.append([value, category, top, top + h - 1, left, left + w - 1, 1, 1])
    visible = [r for r in rows if (inst == r[0]).any()]
    assert len(visible) > 200
    for r in visible:  # boxes of what is left visible (as ComputeObjectBoxes would give)
        ys, xs = torch.nonzero(inst[0, 0] == r[0], as_tuple=True)
        r[2:6] = [int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())]
    objects = [torch.tensor(visible)]
    feats, logits = ObjectPartInferencer(partnet, bank, chunk_size=64)(inst, objects)
    ref_feats, ref_logits = literal_part_generator(partnet, bank, inst, objects)
    assert torch.isfinite(feats).all() and (logits.abs().sum(1) > 0).float().mean() > 0.3
    assert torch.equal(logits, ref_logits)
    assert torch.allclose(feats, ref_feats, atol=1e-5)


def test_cache_returns_the_uncached_outputs_and_empties_on_new_supports(parts):
    partnet, _ = parts
    rng = np.random.default_rng(1)  # an own bank: set_supports below must not leak into other tests
    bank = SupportBank.from_arrays({26: rng.integers(0, 6, (3, 64, 64)), 24: rng.integers(0, 4, (3, 64, 64))})
    inst, objects = _scene()
    objects = [objects[0], objects[1][:2]]
    flipped = inst.flip(-1)
    width = inst.shape[-1]
    flipped_objects = [t.clone() for t in objects]
    for t in flipped_objects:  # ws, we of the mirrored boxes
        t[:, 4], t[:, 5] = width - 1 - t[:, 5], width - 1 - t[:, 4]
    plain = ObjectPartInferencer(partnet, bank)
    cached = ObjectPartInferencer(partnet, bank, cache_size=3)
    batches = [
        (inst, objects),
        (inst[[1, 0]], objects[::-1]),  # both hits, other order
        (torch.cat([flipped[:1], inst[:1]]), [flipped_objects[0], objects[0]]),  # a miss + a hit
        (inst, objects)
    ]
    hits = []
    for batch_inst, batch_objects in batches:
        want = plain(batch_inst, batch_objects)
        got = cached(batch_inst, batch_objects)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
        hits.append(cached.cache_hits)
    # 2 misses, 2 hits, 1 hit + 1 miss (flipped scene); then both kept (3 entries, LRU)
    assert hits == [0, 2, 3, 5] and len(cached._cache) == 3
    edited = bank.supports[bank.categories.index(26)].argmax(1).clone()
    edited[edited == 2] = 5
    bank.set_supports(26, edited)
    assert torch.equal(cached(inst, objects)[1], plain(inst, objects)[1])
    assert cached.cache_hits == 5  # new supports: recomputed, not served from the old entries
    with pytest.raises(ValueError, match='cache_size must be >= 0'):
        ObjectPartInferencer(partnet, bank, cache_size=-1)
