"""tools/synthesize.py on the toy iPOSE config with random weights (tiny widths, 64x128)."""
import os
import os.path as osp

import cv2
import numpy as np
import torch

from mmipose.apis import init_model
from mmipose.datasets.toy import prepare_toy_data
from mmipose.testing.config_runs import REPO, run_tool

CONFIG = osp.join(REPO, 'configs', 'toy', 'ipose_tiny_1xb4-600iters_toy-64x128.py')


def test_synthesize_files_resampling_and_support_editing(tmp_path):
    data = str(tmp_path / 'toy')
    prepare_toy_data(data, seed=0, num_train=40, num_val=2, num_supports=3)
    options = {'model.part_inferencer.support_bank.root': osp.join(data, 'supports')}
    model = init_model(CONFIG, None, cfg_options=options)
    checkpoint = str(tmp_path / 'random.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    label = osp.join(data, 'scenes', 'val', 'labels', 'val_00000.png')
    inst_map = cv2.imread(osp.join(data, 'scenes', 'val', 'instances', 'val_00000.png'), cv2.IMREAD_UNCHANGED)
    obj = int(inst_map[inst_map >= 1000][0])
    edited_supports = tmp_path / 'car_supports'
    edited_supports.mkdir()
    for i in range(3):
        cv2.imwrite(str(edited_supports / f'{i}_part.png'), np.full((64, 64), 5, np.uint8))
    inst = osp.join(data, 'scenes', 'val', 'instances', 'val_00000.png')
    # the script's command line, as users run it (eager here: the default backend, OpenVINO where
    # installed, is tested in tests/test_deploy, which runs in a process of its own)
    run_tool([
        'tools/synthesize.py', CONFIG, checkpoint, label, '--inst', inst, '--out-dir',
        str(tmp_path / 'out'), '--resample', f'object:{obj}', '--num-samples', '2', '--supports',
        f'26={edited_supports}', '--backend', 'pytorch', '--cfg-options',
        f'model.part_inferencer.support_bank.root={data}/supports'
    ])
    names = sorted(os.listdir(tmp_path / 'out'))
    assert names == sorted(['val_00000.png', 'val_00000_parts.png', 'val_00000_parts_color.png'] +
                           [f'val_00000_resample{i}{s}.png' for i in range(2) for s in ('', '_parts', '_parts_color')])
    image = cv2.imread(str(tmp_path / 'out' / 'val_00000.png'))
    edited = cv2.imread(str(tmp_path / 'out' / 'val_00000_resample0.png'))
    assert image.shape == (64, 128, 3)
    # (what a region edit may change is tested on the inferencer, tests/test_apis/test_inferencer.py: on a
    # 64x128 image the generator's receptive-field halo of this object covers the whole image)
    assert edited.shape == image.shape
