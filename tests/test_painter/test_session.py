"""The painter's model calls: synthesis, redraw regions, support edits per visitor, bad models and inputs."""
import base64
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from painter_model import TOY_CONFIG, support_maps, toy_session

from mmipose.painter import PainterSession, canvas_size, demo_model_files, encode_png, replace_part

SKY, ROAD, CAR = 1, 3, 7
REPO = osp.join(osp.dirname(__file__), '..', '..')


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    session = toy_session(str(tmp_path_factory.mktemp('painter')))
    assert session.load_error is None, session.load_error
    return session


def _scene():
    label = np.full((64, 128), SKY, np.int64)
    label[32:] = ROAD
    inst = np.zeros_like(label)
    label[44:52, 20:40] = CAR
    inst[44:52, 20:40] = 7001
    label[44:52, 40:60] = CAR  # touching the first car
    inst[44:52, 40:60] = 7002
    return label, inst


def test_tables_and_sizes(session):
    assert session.size == (64, 128)
    assert session.table.names[CAR] == 'car' and tuple(session.table.palette[CAR]) == (0, 0, 142)
    assert session.table.object_classes == [6, 7, 8, 9]
    assert session.table.part_label(26, 2) == 'wheel'
    assert session.support_categories == [24, 26, 28, 101]
    cityscapes = Config.fromfile(osp.join(REPO, 'configs', 'ipose', 'ipose_2xb2-372kiters_cityscapes-256x512.py'))
    assert canvas_size(cityscapes) == (256, 512)


def test_synthesis_keeps_touching_objects_apart(session):
    label, inst = _scene()
    inst = session.instances(label, inst)
    result = session.synthesize(label, inst, seed=0)
    assert result.image.shape == (64, 128, 3) and result.image.dtype == np.uint8
    assert sorted(result.objects[:, 0].tolist()) == [7001, 7002]
    again = session.synthesize(label, inst, seed=0)
    np.testing.assert_array_equal(again.image, result.image)


def test_redraw_regions_and_their_errors(session):
    label, inst = _scene()
    result = session.synthesize(label, inst, seed=0)
    edited = session.redraw(result, 'object', 7002, seed=5)
    diff = np.abs(edited.image.astype(int) - result.image.astype(int)).max(-1)
    assert diff[inst == 7002].max() > 0
    np.testing.assert_array_equal(edited.z[:, :, inst != 7002], result.z[:, :, inst != 7002])
    with pytest.raises(ValueError, match='select an object first'):
        session.redraw(result, 'object', 0)
    with pytest.raises(ValueError, match='object 8001 is not in the last synthesis'):
        session.redraw(result, 'object', 8001)
    parts = result.parts[inst == 7001]
    present = int(np.bincount(parts[parts > 0]).argmax())
    edited = session.redraw(result, 'part', 7001, present, seed=6)
    changed = edited.z[0, 0].numpy() != result.z[0, 0].numpy()
    assert changed.any() and (changed <= ((inst == 7001) & (result.parts == present))).all()
    missing = next(p for p in range(1, 9) if not (parts == p).any())
    with pytest.raises(ValueError, match=f'part {missing} is not predicted inside object 7001'):
        session.redraw(result, 'part', 7001, missing)
    assert session.redraw(result, 'global', seed=7).image.shape == (64, 128, 3)


def test_support_edits_belong_to_one_visitor(session):
    label, inst = _scene()
    bank = session.inferencer.support_bank
    row = bank.categories.index(26)
    original = bank.supports[row].argmax(1).clone()
    np.testing.assert_array_equal(session.supports_of(26), support_maps(26))
    no_wheels = replace_part(session.supports_of(26), 2, 5)
    assert not (no_wheels == 2).any() and (no_wheels == 5).sum() > (support_maps(26) == 5).sum()
    base = session.synthesize(label, inst, seed=0)
    edited = session.synthesize(label, inst, edits={26: no_wheels}, noise=(base.z, base.z_part))
    assert torch.equal(bank.supports[row].argmax(1), torch.from_numpy(no_wheels))
    assert (edited.parts != base.parts).any()
    back = session.synthesize(label, inst, noise=(base.z, base.z_part))  # another visitor, no edits
    assert torch.equal(bank.supports[row].argmax(1), original)
    np.testing.assert_array_equal(back.parts, base.parts)


def test_support_uploads_are_checked(session):
    maps = session.support_upload(26, [np.zeros((32, 32), np.uint8)] * 3)
    assert maps.shape == (3, 64, 64)
    with pytest.raises(ValueError, match='takes 3 support maps, got 2'):
        session.support_upload(26, [np.zeros((64, 64))] * 2)
    with pytest.raises(ValueError, match=r'part ids \[9\] outside 0..8'):
        session.support_upload(26, [np.full((64, 64), 9)] * 3)
    with pytest.raises(KeyError, match='part category 99 has no supports'):
        session.supports_of(99)


def test_canvas_export_is_parsed_like_an_upload(session):
    pytest.importorskip('gradio')
    from mmipose.painter.app import parse_canvas
    label, inst = _scene()
    colours = session.table.palette[label]
    colours[0, 0] = (75, 125, 185)  # an off-palette pixel (anti-aliasing) next to sky
    encoded = np.stack([inst >> 8, inst & 255, np.zeros_like(inst)], -1)
    url = lambda a: 'data:image/png;base64,' + base64.b64encode(encode_png(a)).decode()  # noqa: E731
    canvas = json.dumps(dict(label=url(colours), inst=url(encoded), selected=7002))
    parsed_label, parsed_inst, selected, notes = parse_canvas(session, canvas)
    np.testing.assert_array_equal(parsed_label, label)
    np.testing.assert_array_equal(parsed_inst, inst)
    assert selected == 7002 and notes == [
        'canvas: 1 pixels had colours in no palette entry and were snapped to the '
        'nearest class colour.'
    ]
    with pytest.raises(ValueError, match='unreadable'):
        parse_canvas(session, '{not json')


def test_missing_demo_model_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match='Run `make demo` first'):
        demo_model_files(str(tmp_path))
    stage = tmp_path / 'ipose'
    stage.mkdir()
    (stage / 'ipose_tiny.py').write_text('')
    (stage / 'iter_2.pth').write_bytes(b'')
    (stage / 'last_checkpoint').write_text(str(stage / 'iter_2.pth'))
    assert demo_model_files(str(tmp_path)) == (str(stage / 'ipose_tiny.py'), str(stage / 'iter_2.pth'))


def test_a_checkpoint_of_another_model_is_reported_not_raised(tmp_path):
    from painter_model import write_supports
    checkpoint = str(tmp_path / 'other.pth')
    torch.save({'state_dict': {'generator_ema.module.other.weight': torch.zeros(1)}}, checkpoint)
    options = {
        'model.part_inferencer.support_bank.root': write_supports(str(tmp_path / 'supports')),
        'model.part_inferencer.partnet.checkpoint': None
    }
    session = PainterSession(TOY_CONFIG, checkpoint, cfg_options=options, backend='pytorch', precision=None)
    assert session.inferencer is None
    assert 'could not be loaded' in session.load_error and 'other.pth' in session.load_error
    assert 'does not match' in session.load_error
    with pytest.raises(RuntimeError, match='does not match'):
        session.synthesize(*_scene())
    pytest.importorskip('gradio')
    from mmipose.painter.app import build_app
    app = build_app(session)  # the page still builds: it shows the error instead of a dead server
    assert any(getattr(block, 'elem_id', None) == 'ipaint-load-error' for block in app.blocks.values())
