"""Every relative link in README.md and docs/ points at a file that exists (and, with an anchor
into a markdown file, at a heading of it)."""
import glob
import os.path as osp
import re

import pytest

from conftest import REPO

LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
PAGES = [osp.join(REPO, 'README.md')] + sorted(glob.glob(osp.join(REPO, 'docs', '**', '*.md'),
                                                         recursive=True))


def anchors(path: str) -> set:
    """GitHub's anchors of a markdown file's headings."""
    out = set()
    with open(path) as f:
        for line in f:
            if line.startswith('#'):
                title = line.lstrip('#').strip().lower()
                out.add(re.sub(r'[^\w\- ]', '', title).replace(' ', '-'))
    return out


@pytest.mark.parametrize('page', PAGES, ids=[osp.relpath(p, REPO) for p in PAGES])
def test_relative_links_resolve(page):
    with open(page) as f:
        text = f.read()
    broken = []
    for target in LINK.findall(text):
        if re.match(r'^[a-z]+:', target):
            continue  # URLs
        path, _, anchor = target.partition('#')
        full = osp.normpath(osp.join(osp.dirname(page), path)) if path else page
        if not osp.exists(full):
            broken.append(f'{target} (no file {osp.relpath(full, REPO)})')
        elif anchor and full.endswith('.md') and anchor not in anchors(full):
            broken.append(f'{target} (no heading #{anchor})')
    assert not broken, f'{osp.relpath(page, REPO)}: ' + '; '.join(broken)
