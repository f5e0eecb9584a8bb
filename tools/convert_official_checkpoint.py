"""Convert the authors' released iPOSE checkpoints into an mmipose (MMEngine-style) checkpoint.

Examples:
    # PartNet (checkpoints/partsyn_model/models/best_G.pth of the official release)
    python tools/convert_official_checkpoint.py --partnet best_G.pth --out checkpoints/partnet_official.pth
    # A whole IPOSE model (PartNet is taken from the EMA file, as the reference infers with it)
    python tools/convert_official_checkpoint.py --generator best_G.pth --ema best_EMA.pth \
        --discriminator best_D.pth --out checkpoints/ipose_cityscapes_official.pth

The written file is ``{'meta': {...}, 'state_dict': {...}}``; configs point their
``partnet_checkpoint`` at it (``load_partnet_weights`` also accepts the official file directly).
After writing, the file is read back (``weights_only=True``) and loaded strictly into a fresh network.
"""
from mmipose.utils.convert_official_checkpoint import main

if __name__ == '__main__':
    main()
