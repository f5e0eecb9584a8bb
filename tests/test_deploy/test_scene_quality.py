"""mmipose.deploy.scene_quality: segmenter mIoU / AC and the difference to eager fp32 of every backend variant."""
import copy

import pytest
import torch

from mmipose.deploy.onnx_export import parity_scene
from mmipose.deploy.scene_quality import VARIANTS, Scene, markdown_table, measure_scene_quality
from mmipose.toy.stages import SEGMENTER_CONFIG

NUM_CLASSES = 10  # the toy label set


@pytest.fixture(scope='module')
def model(toy_model):
    return copy.deepcopy(toy_model)  # the eager variants change precision and layout: keep the session's model


@pytest.fixture(scope='module')
def scenes(model):
    from mmipose.apis import IPOSEInferencer
    boxes = IPOSEInferencer(model, precision='fp32', channels_last=False)
    out = []
    for seed in (1, 2, 3):
        label, inst = parity_scene(NUM_CLASSES, [6, 7, 8, 9], (64, 128), seed=seed)
        out.append(Scene(f'scene_{seed}', label, inst, boxes.objects_for(label, inst)))
    return out


@pytest.fixture(scope='module')
def segmenter(tmp_path_factory):
    """The toy segmenter config at small width and a random checkpoint of it (both paths load the same weights)."""
    from mmipose.evaluation.mmseg_segmenter import build_segmenter
    tmp = tmp_path_factory.mktemp('segmenter')
    config = str(tmp / 'segmenter.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{SEGMENTER_CONFIG!r}]\n'
                'model = dict(data_preprocessor=dict(size=None), backbone=dict(base_channels=4),\n'
                '             decode_head=dict(in_channels=4, channels=4))\n')
    torch.manual_seed(0)
    checkpoint = str(tmp / 'segmenter.pth')
    torch.save(dict(state_dict=build_segmenter(config, None, allow_random_init=True).state_dict()), checkpoint)
    return dict(type='SegmentationMetric', segmenter_config=config, segmenter_checkpoint=checkpoint)


@pytest.fixture(scope='module')
def results(model, scenes, segmenter, toy_export):
    return measure_scene_quality(model, scenes, segmenter, VARIANTS, seed=5, deploy_dir=toy_export[0], progress=False)


def test_every_variant_is_scored_against_eager_fp32(results, model):
    assert list(results) == list(VARIANTS)
    ran = {v: r for v, r in results.items() if 'skipped' not in r}
    assert {'pytorch-fp32', 'pytorch-bf16', 'onnxruntime', 'openvino'} <= set(ran)
    for r in ran.values():
        assert 0 <= r['Seg/mIoU'] <= 100 and 0 < r['Seg/AC'] <= 100 and r['num_scenes'] == 3
    reference = results['pytorch-fp32']
    assert reference['image_max_abs'] == 0 and reference['image_pixels_differing'] == 0
    assert reference['parts_pixels_differing'] == 0
    for variant in ('onnxruntime', 'openvino'):  # fp32 graphs: the export tolerance 1e-4 -> one grey level
        assert results[variant]['image_max_abs'] <= 1 and results[variant]['image_mean_abs'] < 0.01
        # part ids equal but where the top-2 logits tie within float rounding (a pixel or so)
        assert results[variant]['parts_pixels_differing'] < 1e-3
        assert abs(results[variant]['Seg/mIoU'] - reference['Seg/mIoU']) < 1
    # the eager levers really run in bf16: the image differs, PartNet (fp32) gives the same parts
    bf16 = results['pytorch-bf16']
    assert bf16['image_max_abs'] > 1 and 0 < bf16['image_pixels_differing'] <= 1
    assert bf16['parts_pixels_differing'] == 0
    assert bf16['channels_last'] and bf16['precision'] == 'bf16'
    if 'openvino-bf16' in ran:
        assert results['openvino-bf16']['image_max_abs'] > 1
    else:
        assert 'bf16' in results['openvino-bf16']['skipped']
    # the model's sampling state is restored
    assert model.sample_precision == 'fp32'
    assert all(p.is_contiguous() for p in model.generator_ema.parameters())
    table = markdown_table(results)
    assert table.count('\n') == len(VARIANTS) + 1 and '| pytorch-fp32 |' in table


def test_miou_equals_the_metric_fed_eager_images(results, model, scenes, segmenter):
    """Independent path: the public inferencer call per scene, images converted here, one batch."""
    from mmipose.apis import IPOSEInferencer
    from mmipose.registry import METRICS
    inferencer = IPOSEInferencer(model, precision='fp32', channels_last=False)
    fakes, labels = [], []
    for i, scene in enumerate(scenes):
        image = inferencer(scene.label, scene.inst, seed=5 + i).image  # RGB uint8
        fakes.append(torch.from_numpy(image[:, :, [2, 1, 0]].copy()).permute(2, 0, 1).float())  # BGR
        labels.append(torch.from_numpy(scene.label)[None])
    metric = METRICS.build(copy.deepcopy(segmenter))
    metric.process(None, [dict(fake_img=f, label=g) for f, g in zip(fakes, labels)])
    expected = metric.evaluate(len(scenes))
    assert results['pytorch-fp32']['Seg/mIoU'] == pytest.approx(expected['Seg/mIoU'], abs=1e-9)
    assert results['pytorch-fp32']['Seg/AC'] == pytest.approx(expected['Seg/AC'], abs=1e-9)


def test_missing_backend_is_skipped_with_the_reason_and_bad_variants_fail(model, scenes, segmenter, monkeypatch):
    import mmipose.deploy.onnx_backends as backends
    from mmipose.deploy.onnx_backends import BackendUnavailableError

    def unavailable(backend, precision='fp32', device='cpu'):
        raise BackendUnavailableError(f"backend {backend!r} needs the {backend} package: pip install mmipose[deploy]")

    monkeypatch.setattr(backends, 'check_backend', unavailable)
    results = measure_scene_quality(model, scenes[:1], segmenter, ['onnxruntime'], progress=False)
    assert list(results) == ['pytorch-fp32', 'onnxruntime']
    assert 'pip install mmipose[deploy]' in results['onnxruntime']['skipped']
    assert results['pytorch-fp32']['image_max_abs'] == 0
    with pytest.raises(ValueError, match=r"unknown variants \['tensorrt'\]"):
        measure_scene_quality(model, scenes, segmenter, ['tensorrt'])
    with pytest.raises(ValueError, match='no scenes'):
        measure_scene_quality(model, [], segmenter, ['pytorch-fp32'])


def test_tool_scores_the_val_scenes_of_a_config(segmenter, tmp_path, capsys):
    """tools/analysis/backend_scene_metrics.py's code on a toy config: its val scenes, JSON and table."""
    import json

    from deploy_models import write_toy_config

    from mmipose.apis import init_model
    from mmipose.deploy.scene_quality_cli import main
    config = write_toy_config(str(tmp_path / 'toy.py'))
    # the smallest toy set with clean supports for every category; only the 2 val scenes are scored
    data = {
        'val_dataloader.dataset.data_root': str(tmp_path / 'data'),
        'val_dataloader.dataset.num_train': 40,
        'val_dataloader.dataset.num_val': 2
    }
    torch.manual_seed(0)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save(
        dict(state_dict=init_model(config, None, cfg_options=data, sample_model='auto').state_dict()), checkpoint)
    out = str(tmp_path / 'metrics.json')
    main([
        config, checkpoint, '--segmenter-config', segmenter['segmenter_config'], '--segmenter-checkpoint',
        segmenter['segmenter_checkpoint'], '--variants', 'pytorch-bf16', '--out', out, '--cfg-options'
    ] + [f'{k}={v}' for k, v in data.items()])
    with open(out) as f:
        written = json.load(f)
    assert written['num_scenes'] == 2 and written['image_size'] == [64, 128]
    assert list(written['variants']) == ['pytorch-fp32', 'pytorch-bf16']
    assert written['variants']['pytorch-fp32']['image_max_abs'] == 0
    assert '| pytorch-bf16 |' in capsys.readouterr().out
