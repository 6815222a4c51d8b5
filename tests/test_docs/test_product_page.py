"""The README is the product page and the guides say how: the page stays short, and neither
carries the research log's vocabulary (hypothesis or issue numbers, dates)."""
import glob
import os.path as osp
import re

import pytest

README_MAX_LINES = 200
NOTEBOOK = re.compile(r'hypothes[ie]s|issue\s+#?\d+|\b20\d\d-\d\d-\d\d\b', re.IGNORECASE)


def test_readme_is_at_most_200_lines(repo_root):
    n = len(open(osp.join(repo_root, 'README.md')).read().splitlines())
    assert n <= README_MAX_LINES, f'README.md has {n} lines (cap {README_MAX_LINES}): move ' \
        'detail to docs/guides/ or docs/results/'


@pytest.mark.parametrize('page', ['README.md', 'docs/guides/*.md'])
def test_product_pages_carry_no_research_log_words(repo_root, page):
    hits = []
    for path in sorted(glob.glob(osp.join(repo_root, page))):
        for i, line in enumerate(open(path).read().splitlines(), 1):
            if NOTEBOOK.search(line):
                hits.append(f'{osp.relpath(path, repo_root)}:{i}: {line.strip()[:100]}')
    assert not hits, 'hypothesis / issue numbers or dates belong in docs/research/:\n' + \
        '\n'.join(hits)


def test_the_check_catches_what_it_forbids():
    for bad in ('see hypothesis 24', 'issue 28 closed', 'measured on 2026-12-04',
                'Hypotheses 26-28'):
        assert NOTEBOOK.search(bad), bad
    assert not NOTEBOOK.search('the research log, 20 epochs at 2e-3')


def test_the_usage_guide_quotes_the_full_config_as_it_is(repo_root):
    """docs/guides/usage.md shows configs/yolov3_hoyer_vgg.py "in full": the quote is the file."""
    guide = open(osp.join(repo_root, 'docs/guides/usage.md')).read()
    config = open(osp.join(repo_root, 'configs/yolov3_hoyer_vgg.py')).read()
    assert f'```python\n{config}```' in guide, 'update the quote in docs/guides/usage.md'
