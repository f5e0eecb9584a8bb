"""The one last-checkpoint lookup (mmipose.utils.checkpoint) and the umask read of the checkpoint hook."""
import os

import pytest

from mmipose.engine.hooks.atomic_checkpoint_hook import atomic_write_bytes, process_umask
from mmipose.utils.checkpoint import find_last_checkpoint, read_last_checkpoint


def test_pointer_newest_file_and_moved_work_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match='last_checkpoint'):
        find_last_checkpoint(str(tmp_path), 'segmenter')
    assert read_last_checkpoint(str(tmp_path)) is None
    old, new = tmp_path / 'iter_2.pth', tmp_path / 'iter_4.pth'
    old.write_bytes(b'a')
    new.write_bytes(b'b')
    os.utime(old, (1, 1))
    assert find_last_checkpoint(str(tmp_path)) == str(new)  # no pointer: the newest file
    (tmp_path / 'last_checkpoint').write_text(str(old) + '\n')
    assert read_last_checkpoint(str(tmp_path)) == str(old)
    assert find_last_checkpoint(str(tmp_path)) == str(old)  # the pointer wins
    # the work dir was moved: the pointer names the old place, the file is found by its name
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/iter_2.pth')
    assert find_last_checkpoint(str(tmp_path)) == str(old)


def test_umask_is_read_without_being_changed(tmp_path):
    previous = os.umask(0o027)
    try:
        assert process_umask() == 0o027
        assert os.umask(0o027) == 0o027
        atomic_write_bytes(b'x', tmp_path / 'f.pth')
        assert (tmp_path / 'f.pth').stat().st_mode & 0o777 == 0o640  # as open() would create it
    finally:
        os.umask(previous)
