# FID on the validation set (paper protocol: one sample per label map, real statistics from
# the val images at the working resolution). Set `inception_path` to the local StyleGAN
# TorchScript Inception (inception-2015-12-05.pt) and `fake_nums` to the val set size.
inception_path = 'checkpoints/inception-2015-12-05.pt'
fid_metric = dict(
    type='IPOSEFID',
    prefix='FID',
    fake_nums=-1,  # -1 = size of the val set (one sample per label map)
    real_nums=-1,
    inception_style='StyleGAN',
    inception_path=inception_path,
    real_key='gt_img',
    sample_model='ema')
object_fid_metric = dict(
    type='ObjectFID', prefix='ObjectFID', inception_path=inception_path, sample_model='ema', crop_size=128)
val_evaluator = dict(type='Evaluator', metrics=[fid_metric, object_fid_metric])
test_evaluator = val_evaluator
