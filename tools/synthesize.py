"""Synthesize images (and part maps) from label maps with a trained iPOSE model.

Inputs are label-map PNGs (a file or a folder); instance maps are optional (same file names in
--inst, else connected components of the object classes). For every input NAME it writes
``NAME.png`` (image), ``NAME_parts.png`` (part ids 0..8) and ``NAME_parts_color.png``.

Editing:
    --resample global | object:<instance value> | part:<instance value>:<part id>
        after the first synthesis, new noise inside that region only (paper Fig. 5); writes
        NAME_resample<i>.png for --num-samples draws.
    --supports <part category>=<folder>
        replace a category's support part maps (e.g. wheels erased) before synthesis
        (paper Fig. 6); the folder holds k single-channel part-index PNGs (first k sorted).

Examples:
    python tools/synthesize.py CONFIG CKPT labels/ --out-dir out/
    python tools/synthesize.py CONFIG CKPT label.png --inst inst.png --resample object:7001 --num-samples 3
    python tools/synthesize.py CONFIG CKPT label.png --supports 26=my_car_supports/
    python tools/synthesize.py CONFIG CKPT labels/ --precision fp32   # exact fp32 sampling
    python tools/synthesize.py CONFIG CKPT labels/ --backend onnxruntime --deploy-dir work_dirs/onnx

Backends (--backend): 'pytorch' (eager), or the exported ONNX graphs of tools/deployment/export_onnx.py
(--deploy-dir; exported to a temporary folder when not given) on 'onnxruntime' or 'openvino'
(``pip install mmipose[deploy]``); boxes, crops, part pasting and editing are the same code.
With 'openvino', --precision auto runs the generator in bf16 where the CPU has it natively.
--device cuda with 'onnxruntime' uses its CUDA provider (onnxruntime-gpu). See docs/deployment.md.

Speed: sampling runs in bf16 autocast with channels-last weights where the device has native
bf16 (--precision auto, the default; on the Cityscapes model images are within PSNR 51 dB of fp32,
part maps unchanged: PartNet stays fp32), and denormals are
flushed on the CPU (--keep-denormals keeps them).
"""
from mmipose.apis.synthesize_cli import main

if __name__ == '__main__':
    main()
