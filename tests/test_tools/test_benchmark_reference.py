"""mmipose.benchmarks.reference_speed without the authors' code: path errors and scene format."""
import numpy as np
import pytest
import torch

from mmipose.benchmarks import reference_speed
from mmipose.benchmarks.ipose_speed import synthetic_scene


@pytest.fixture(scope='module')
def tool():
    return reference_speed


def test_missing_reference_repo_is_a_clear_error(tool, tmp_path):
    missing = tmp_path / 'no_such_clone'
    with pytest.raises(
            ValueError,
            match=rf'--reference-repo {missing} does not exist: expected a '
            r"clone of the authors' iPOSE code \(https://github.com/csyxwei/iPOSE"):
        tool.main(['--reference-repo', str(missing)])
    # a folder that is not their code: the files it lacks are named
    (tmp_path / 'other' / 'models').mkdir(parents=True)
    (tmp_path / 'other' / 'models' / 'models_ipose.py').write_text('')
    with pytest.raises(ValueError, match=r'lacks models/generator_ipose.py, .*config.py: expected'):
        tool.main(['--reference-repo', str(tmp_path / 'other')])


def test_scenes_in_the_reference_format_match_benchmark_ipose(tool):
    data = tool.reference_batch(2, (64, 128), 5, seed=3)
    assert data['crop_params'].shape == (2, 5, 7) and data['ins_num'].tolist() == [5, 5]
    for b in range(2):
        label, inst, objects, image = synthetic_scene(35, (64, 128), 5, 3 + b)
        assert torch.equal(data['label'][b], label) and torch.equal(data['instance'][b].long(), inst)
        np.testing.assert_array_equal(data['crop_params'][b].numpy(), objects[:, [0, 2, 3, 4, 5, 6, 7]])
        assert torch.equal(data['image'][b], image.float() / 127.5 - 1)
        # every object is a Cityscapes instance (class * 1000 + k): no stuff band of the object class
        assert (objects[:, 0] >= 1000).all() and set(np.unique(inst[inst < 1000]).tolist()).isdisjoint({26})


def test_scene_bands_never_use_the_object_class():
    for seed in range(40):
        label, inst, objects, _ = synthetic_scene(35, (64, 128), 3, seed)
        assert len(objects) == 3 and (objects[:, 0] // 1000 == 26).all(), seed


def test_compare_runs_benchmark_ipose_with_the_same_case_options(tool):
    args = tool.parse_args(['--reference-repo', 'x', '--threads', '2', '--iters', '2', '--infer-objects', '7'])
    cmd, spec = tool.ours_command(args, 'infer', 'levers')
    assert spec == 'bf16+cl+ftz' and cmd[-2:] == ['--worker', 'infer']
    text = ' '.join(cmd)
    assert '--infer-objects 7 --infer-iters 2' in text and '--variants bf16+cl+ftz' in text
    cmd, spec = tool.ours_command(args, 'train:2', 'base')
    text = ' '.join(cmd)
    assert spec == 'base' and '--variants' not in text and '--train-steps 2' in text
    assert 'model.loss_config.style_loss=None' in text  # the reference runs without CLIP


def test_compare_times_the_deployment_backends_with_the_same_scene_options(tool):
    args = tool.parse_args([
        '--reference-repo', 'x', '--threads', '2', '--iters', '2', '--infer-objects', '7', '--image-size', '64', '128'
    ])
    assert args.backends == ['compile', 'onnxruntime', 'openvino', 'openvino-bf16']
    cmd = tool.backend_command(args, 'onnxruntime')
    text = ' '.join(cmd)
    assert cmd[cmd.index('--backend-worker') + 1] == 'onnxruntime'
    assert '--iters 2' in text and '--infer-objects 7' in text and '--image-size 64 128' in text
    assert '--threads 2' in text
