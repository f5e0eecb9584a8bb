"""Part-name -> part-index (1..8, 0 = background) tables of the part dataset (config data).

PartNet predicts 9 part channels, so every class's parts are merged into at most 8 indices. The
authors did not publish their merge; these tables are mmipose's choice:

* Cityscapes-PPS keeps its own parts: person/rider torso 1, head 2, arm 3, leg 4;
  car/truck/bus window 1, wheel 2, light 3, license plate 4, chassis 5.
* PASCAL-PPS person, car and bus follow the same schemes (the reference gives VOC person/car/bus the
  Cityscapes supports at synthesis), other classes merge left/right and small parts.
* PASCAL boat (4), chair (9), diningtable (11) and sofa (18) have no part annotations, so the part
  dataset has no samples for them.

Keys are the semantic ids of the source dataset (PPP sids = part category ids 1..20; CPP sids =
Cityscapes ids 24..28 = part category ids). ``tools/build_part_dataset.py --part-indices FILE.json``
replaces them.
"""
from typing import Dict

_HEAD = ['head', 'leye', 'reye']
_VEHICLE = dict(
    window=1,
    wheel=2,
    headlight=3,
    fliplate=4,
    bliplate=4,
    frontside=5,
    leftside=5,
    rightside=5,
    backside=5,
    roofside=5,
    leftmirror=5,
    rightmirror=5,
    door=5)
_PERSON = dict(
    torso=1,
    neck=1,
    head=2,
    leye=2,
    reye=2,
    lear=2,
    rear=2,
    lebrow=2,
    rebrow=2,
    nose=2,
    mouth=2,
    hair=2,
    llarm=3,
    luarm=3,
    lhand=3,
    rlarm=3,
    ruarm=3,
    rhand=3,
    llleg=4,
    luleg=4,
    lfoot=4,
    rlleg=4,
    ruleg=4,
    rfoot=4)


def _quadruped(extra_head=(), ears=('lear', 'rear'), front=(), back=()) -> Dict[str, int]:
    table = {name: 1 for name in _HEAD + list(extra_head)}
    table.update({name: 2 for name in ears})
    table.update(neck=3, torso=4, tail=7)
    table.update({name: 5 for name in front})
    table.update({name: 6 for name in back})
    return table


_LEGS = dict(front=('lfuleg', 'lflleg', 'rfuleg', 'rflleg'), back=('lbuleg', 'lblleg', 'rbuleg', 'rblleg'))

#: PASCAL-Panoptic-Parts: sid (= part category id) -> {part name: index}.
PASCAL_PART_INDICES: Dict[int, Dict[str, int]] = {
    1:
    dict(body=1, stern=2, lwing=3, rwing=3, tail=4, engine=5, wheel=6),
    2:
    dict(fwheel=1, bwheel=1, saddle=2, handlebar=3, chainwheel=4, headlight=5),
    3:
    dict(head=1, leye=1, reye=1, beak=2, torso=3, neck=4, lwing=5, rwing=5, lleg=6, lfoot=6, rleg=6, rfoot=6, tail=7),
    5:
    dict(cap=1, body=2),
    6:
    dict(_VEHICLE),
    7:
    dict(_VEHICLE),
    8:
    _quadruped(['nose'], front=('lfleg', 'lfpa', 'rfleg', 'rfpa'), back=('lbleg', 'lbpa', 'rbleg', 'rbpa')),
    10:
    _quadruped(['muzzle'], ears=('lear', 'rear', 'lhorn', 'rhorn'), **_LEGS),
    12:
    _quadruped(['nose', 'muzzle'], front=('lfleg', 'lfpa', 'rfleg', 'rfpa'), back=('lbleg', 'lbpa', 'rbleg', 'rbpa')),
    13:
    _quadruped(['muzzle'], front=_LEGS['front'] + ('lfho', 'rfho'), back=_LEGS['back'] + ('lbho', 'rbho')),
    14:
    dict(fwheel=1, bwheel=1, handlebar=2, saddle=3, headlight=4),
    15:
    dict(_PERSON),
    16:
    dict(pot=1, plant=2),
    17:
    _quadruped(['muzzle'], ears=('lear', 'rear', 'lhorn', 'rhorn'), **_LEGS),
    19:
    dict(
        head=1,
        hfrontside=2,
        hleftside=3,
        hrightside=3,
        hbackside=3,
        hroofside=4,
        headlight=5,
        coach=6,
        cfrontside=7,
        cbackside=7,
        cleftside=7,
        crightside=7,
        croofside=8),
    20:
    dict(screen=1, frame=2),
}

_CS_HUMAN = dict(torso=1, head=2, arm=3, leg=4)
_CS_VEHICLE = {'window': 1, 'wheel': 2, 'light': 3, 'license plate': 4, 'chassis': 5}

#: Cityscapes-Panoptic-Parts: sid (= part category id) -> {part name: index} (identity on pids).
CITYSCAPES_PART_INDICES: Dict[int, Dict[str, int]] = {
    24: dict(_CS_HUMAN),
    25: dict(_CS_HUMAN),
    26: dict(_CS_VEHICLE),
    27: dict(_CS_VEHICLE),
    28: dict(_CS_VEHICLE)
}

#: Source dataset -> (sid -> part category id). Identity for both (the reference's ids).
CATEGORY_OF_SID = {
    'pascal': {
        sid: sid
        for sid in range(1, 21)
    },
    'cityscapes': {
        sid: sid
        for sid in (24, 25, 26, 27, 28)
    },
}

DEFAULT_PART_INDICES = {'pascal': PASCAL_PART_INDICES, 'cityscapes': CITYSCAPES_PART_INDICES}
