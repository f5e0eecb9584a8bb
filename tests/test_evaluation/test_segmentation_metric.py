"""SegmentationMetric vs. a confusion matrix computed by hand from the same network's predictions."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmagic.structures import DataSample

from mmipose.evaluation.segmenter_class_maps import resolve_class_map
from mmipose.registry import METRICS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
NUM_CLASSES = 3
# label values 0..5 -> segmenter classes; 0 and 5 are not counted, 3 and 4 are both class 2
CLASS_MAP = [255, 0, 1, 2, 2, 255]
MEAN, STD = [100.0, 120.0, 140.0], [50.0, 60.0, 70.0]


def tiny_segmenter_config(num_classes: int = NUM_CLASSES) -> dict:
    """A two-stage MMSeg UNet with an FCN head, a few channels wide, random weights."""
    norm_cfg = dict(type='BN', requires_grad=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor', mean=MEAN, std=STD, bgr_to_rgb=True, pad_val=0, seg_pad_val=255),
        backbone=dict(
            type='UNet',
            in_channels=3,
            base_channels=4,
            num_stages=2,
            strides=(1, 1),
            enc_num_convs=(1, 1),
            dec_num_convs=(1, ),
            downsamples=(True, ),
            enc_dilations=(1, 1),
            dec_dilations=(1, ),
            norm_cfg=norm_cfg,
            upsample_cfg=dict(type='InterpConv')),
        decode_head=dict(
            type='FCNHead',
            in_channels=4,
            in_index=1,
            channels=4,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.0,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss')),
        test_cfg=dict(mode='whole'))


def build_metric(**kwargs):
    cfg = dict(
        type='SegmentationMetric',
        segmenter_config=tiny_segmenter_config(),
        class_map=CLASS_MAP,
        allow_random_init=True)
    cfg.update(kwargs)
    metric = METRICS.build(cfg)
    torch.manual_seed(0)  # large random head weights: every class gets predicted somewhere
    torch.nn.init.normal_(metric.segmenter.decode_head.conv_seg.weight, std=3.0)
    return metric


def make_outputs(n=3, h=8, w=16, seed=3):
    """Outputs as MMagic's evaluator passes them: DataSample.to_dict() with ema / orig fakes."""
    g = torch.Generator().manual_seed(seed)
    fakes = torch.randint(0, 256, (n, 3, h, w), generator=g).float()
    labels = torch.randint(0, len(CLASS_MAP), (n, 1, h, w), generator=g)
    outputs = []
    for i, (fake, label) in enumerate(zip(fakes, labels)):
        sample = DataSample(label=label, metainfo=dict(image_name=f'img_{i}'))
        sample.ema = DataSample(fake_img=fake)
        sample.orig = DataSample(fake_img=255 - fake)  # must not be read with sample_model='ema'
        outputs.append(sample.to_dict())
    return outputs, fakes, labels[:, 0].numpy()


def predictions_by_hand(segmenter, bgr, label_size, eval_size=None) -> np.ndarray:
    """Resize, flip to RGB, normalise, raw network forward, resize logits, argmax."""
    x = bgr if eval_size is None else F.interpolate(bgr, eval_size, mode='bilinear', align_corners=False)
    x = (x[:, [2, 1, 0]] - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = segmenter(x, mode='tensor')
    logits = F.interpolate(logits, label_size, mode='bilinear', align_corners=False)
    return logits.argmax(1).numpy()


def scores_by_hand(pred: np.ndarray, labels: np.ndarray) -> dict:
    """Confusion matrix with explicit loops over pixels, then AC and mIoU over seen classes."""
    gt = np.asarray(CLASS_MAP)[labels]
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
    for g, p in zip(gt.ravel(), pred.ravel()):
        if g != 255:
            confusion[g, p] += 1
    ious = []
    for k in range(NUM_CLASSES):
        union = confusion[k, :].sum() + confusion[:, k].sum() - confusion[k, k]
        if union:
            ious.append(confusion[k, k] / union)
    return dict(AC=100 * np.trace(confusion) / confusion.sum(), mIoU=100 * np.mean(ious))


@pytest.mark.parametrize('eval_size', [None, (16, 24)])
def test_ac_miou_match_hand_computed_confusion(eval_size):
    metric = build_metric(eval_size=eval_size)
    outputs, fakes, labels = make_outputs()
    metric.process({}, outputs[:2])  # two batches pooled into one confusion matrix
    metric.process({}, outputs[2:])
    result = metric.evaluate(size=3)

    pred = predictions_by_hand(metric.segmenter, fakes, labels.shape[-2:], eval_size)
    assert len(np.unique(pred)) == NUM_CLASSES  # not a trivial constant prediction
    expected = scores_by_hand(pred, labels)
    assert result['Seg/AC'] == pytest.approx(expected['AC'], abs=1e-9)
    assert result['Seg/mIoU'] == pytest.approx(expected['mIoU'], abs=1e-9)
    assert 0 < result['Seg/AC'] < 100


def test_orig_branch_and_plain_fake_img():
    metric = build_metric(sample_model='orig', per_class=True)
    outputs, fakes, labels = make_outputs(n=2)
    metric.process({}, outputs)
    result = metric.evaluate(size=2)
    expected = scores_by_hand(predictions_by_hand(metric.segmenter, 255 - fakes, labels.shape[-2:]), labels)
    assert result['Seg/mIoU'] == pytest.approx(expected['mIoU'], abs=1e-9)
    assert any(key.startswith('Seg/IoU/') for key in result)

    plain = build_metric()
    plain.process({}, [dict(fake_img=f, label=torch.as_tensor(l)[None]) for f, l in zip(fakes, labels)])
    expected = scores_by_hand(predictions_by_hand(plain.segmenter, fakes, labels.shape[-2:]), labels)
    assert plain.evaluate(size=2)['Seg/AC'] == pytest.approx(expected['AC'], abs=1e-9)


def test_checkpoint_round_trip(tmp_path):
    metric = build_metric()
    path = tmp_path / 'segmenter.pth'
    torch.save(dict(state_dict=metric.segmenter.state_dict()), path)
    loaded = METRICS.build(
        dict(
            type='SegmentationMetric',
            segmenter_config=tiny_segmenter_config(),
            segmenter_checkpoint=str(path),
            class_map=CLASS_MAP))
    outputs, _, _ = make_outputs()
    for m in (metric, loaded):
        m.process({}, outputs)
    assert loaded.evaluate(size=3) == metric.evaluate(size=3)


def test_bad_settings_and_inputs_name_the_problem(tmp_path):
    config = tiny_segmenter_config()
    with pytest.raises(FileNotFoundError, match='missing_seg.pth.*model zoo'):
        METRICS.build(
            dict(
                type='SegmentationMetric',
                segmenter_config=config,
                segmenter_checkpoint=str(tmp_path / 'missing_seg.pth'),
                class_map=CLASS_MAP))
    with pytest.raises(ValueError, match='segmenter_checkpoint is None'):
        METRICS.build(dict(type='SegmentationMetric', segmenter_config=config, class_map=CLASS_MAP))
    with pytest.raises(ValueError, match='maps labels to 3 classes .* predicts 4'):
        METRICS.build(
            dict(
                type='SegmentationMetric',
                segmenter_config=tiny_segmenter_config(4),
                class_map=CLASS_MAP,
                allow_random_init=True))
    with pytest.raises(ValueError, match='class_map cityscapes maps labels to 19 classes .* predicts 3'):
        METRICS.build(
            dict(type='SegmentationMetric', segmenter_config=config, class_map='cityscapes', allow_random_init=True))
    with pytest.raises(FileNotFoundError, match='no_such.py'):
        METRICS.build(
            dict(type='SegmentationMetric', segmenter_config=str(tmp_path / 'no_such.py'), allow_random_init=True))
    with pytest.raises(FileNotFoundError, match='mmseg::fcn/no_such.py'):
        METRICS.build(dict(type='SegmentationMetric', segmenter_config='mmseg::fcn/no_such.py', allow_random_init=True))
    with pytest.raises(KeyError, match="'voc' is no preset"):
        resolve_class_map('voc')

    metric = build_metric()
    outputs, _, _ = make_outputs(n=2)
    outputs[1]['label'] = torch.full((1, 8, 16), 9)
    with pytest.raises(ValueError, match=r"label values \[9\] \(images \['img_1'\]\)"):
        metric.process({}, outputs)
    outputs, _, _ = make_outputs(n=1)
    outputs[0]['label'] = torch.zeros((1, 4, 16), dtype=torch.long)
    with pytest.raises(ValueError, match=r'fake_img \(8, 16\) and label \(4, 16\) differ'):
        metric.process({}, outputs)


def test_class_map_presets_match_official_tables():
    from cityscapesscripts.helpers.labels import labels
    cityscapes = resolve_class_map('cityscapes')
    assert len(cityscapes) == 35 and cityscapes[34] == 255
    for label in labels:
        if 0 <= label.id < 34:
            assert cityscapes[label.id] == (label.trainId if 0 <= label.trainId < 19 else 255)
    assert sorted(set(cityscapes) - {255}) == list(range(19))

    ade = resolve_class_map('ade20k')
    assert len(ade) == 151 and ade[0] == 255 and ade[1:] == list(range(150))

    coco = resolve_class_map('coco_stuff')
    assert len(coco) == 183 and coco[0] == 255
    import mmseg
    converter = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools', 'dataset_converters', 'coco_stuff164k.py')
    if not osp.isfile(converter):
        pytest.skip('mmsegmentation ships no coco_stuff164k.py converter here')
    spec = importlib.util.spec_from_file_location('coco_stuff164k', converter)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for raw in range(182):  # label raw + 1 -> MMSeg's own raw id -> 171-class table
        assert coco[raw + 1] == module.clsID_to_trID.get(raw, 255)


@pytest.mark.parametrize('config, class_map, num_labels', [
    ('mmseg::fcn/fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py', 'cityscapes', 35),
    ('mmseg::upernet/upernet_r101_4xb4-160k_ade20k-512x512.py', 'ade20k', 151),
    ('mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-320k_coco-stuff164k-512x512.py', 'coco_stuff', 183),
])
def test_evaluation_config_segmenters_fit_their_class_maps(config, class_map, num_labels):
    """The zoo models named in configs/_base_/evaluation build and fit the presets (random weights)."""
    metric = METRICS.build(
        dict(type='SegmentationMetric', segmenter_config=config, class_map=class_map, allow_random_init=True))
    label = torch.randint(0, num_labels, (1, 16, 32))
    metric.process({}, [dict(fake_img=torch.rand(3, 16, 32) * 255, label=label)])
    result = metric.evaluate(size=1)
    assert 0 <= result['Seg/AC'] <= 100


def test_toy_segmenter_config_file():
    """tools/demo_stages.py: a config file path and labels that already are the classes."""
    config = osp.join(ROOT, 'configs', 'toy', 'segmenter_unet-s16_1xb8-300iters_toy-64x128.py')
    metric = METRICS.build(
        dict(type='SegmentationMetric', segmenter_config=config, allow_random_init=True, device='cpu'))
    assert metric.num_classes == 10 and metric.class_map.tolist() == list(range(10))
    metric.process({}, [dict(fake_img=torch.rand(3, 32, 64) * 255, label=torch.randint(0, 10, (1, 32, 64)))])
    assert 0 <= metric.evaluate(size=1)['Seg/mIoU'] <= 100
