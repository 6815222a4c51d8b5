"""Tables written into markdown pages between ``<!-- MARKER -->`` / ``<!-- /MARKER -->``.

Every results tool (results_table.py, benchmark_train.py, scale_cost.py) writes its table this
way, so a page can hold its analysis around a table that a command regenerates.
"""
import os
import os.path as osp
import shlex
from typing import Optional, Sequence


def write_between_markers(path: str, marker: Optional[str], text: str,
                          command: Optional[Sequence[str]] = None,
                          new_page: str = '') -> None:
    """Write ``text`` into ``path`` between the ``marker`` comments, replacing what was there
    and keeping the rest of the page; append the block when the page lacks the markers (a new
    page starts with ``new_page``, e.g. a title). ``command`` (the tool and its arguments) is
    written above the table as ``Produced by `...``` (shell-quoted). Without ``marker`` the file is ``text``."""
    if command:
        text = f'Produced by `python {shlex.join(command)}`:\n\n{text}'
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    if not marker:
        with open(path, 'w') as f:
            f.write(text + '\n')
        return
    begin, end = f'<!-- {marker} -->', f'<!-- /{marker} -->'
    old = open(path).read() if osp.isfile(path) else new_page
    block = f'{begin}\n{text}\n{end}'
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + block + rest.split(end, 1)[1]
    else:
        new = old.rstrip('\n') + ('\n\n' if old.strip() else '') + block + '\n'
    with open(path, 'w') as f:
        f.write(new)
