# Copyright (c) kiln.kaniko contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""tarball.dest checked on the module's host before anything is made."""

from __future__ import annotations

import pytest

from ansible_collections.kiln.kaniko.plugins.module_utils._errors import ValidationError
from ansible_collections.kiln.kaniko.plugins.module_utils._kaniko.run import tarball


@pytest.mark.parametrize('make, words', [
    (lambda p: str(p / 'missing' / 'a.tar'), 'No such file'),
    (str, 'Is a directory'),
])
def test_check_dest(tmp_path, make, words):
    with pytest.raises(ValidationError) as caught:
        tarball.check_dest(make(tmp_path))
    assert caught.value.option == 'tarball.dest' and words in caught.value.message
    tarball.check_dest(str(tmp_path / 'ok.tar'))
