"""The one writer of tables between markers in markdown pages."""
from mmdet_hoyer.utils.markdown import write_between_markers


def test_replaces_only_the_marked_block(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('# Title\n\nbefore\n<!-- t -->\nold table\n<!-- /t -->\nafter\n')
    write_between_markers(str(page), 't', '| a |\n|---|', command=['tools/x.py', '--y', '1'])
    assert page.read_text() == ('# Title\n\nbefore\n<!-- t -->\nProduced by `python tools/x.py '
                                '--y 1`:\n\n| a |\n|---|\n<!-- /t -->\nafter\n')


def test_appends_a_block_to_a_page_without_it_and_starts_new_pages(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('# Title\n\ntext\n')
    write_between_markers(str(page), 'u', 'table')
    assert page.read_text() == '# Title\n\ntext\n\n<!-- u -->\ntable\n<!-- /u -->\n'
    new = tmp_path / 'sub' / 'new.md'
    write_between_markers(str(new), 'u', 'table', new_page='# New\n')
    assert new.read_text() == '# New\n\n<!-- u -->\ntable\n<!-- /u -->\n'
    plain = tmp_path / 'plain.md'
    write_between_markers(str(plain), None, 'table')
    assert plain.read_text() == 'table\n'
