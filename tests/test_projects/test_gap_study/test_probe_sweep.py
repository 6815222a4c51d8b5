import subprocess
import sys


def test_sweep_writes_a_table_with_twin_ratios_and_a_plot(repo_root, tmp_path):
    out = tmp_path / 'probe.md'
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/probe_sweep.py', '--variants',
         'mem-relu', 'mem', '--seeds', '0', '1', '--steps', '2', '--out', str(out)],
        capture_output=True, text=True, cwd=repo_root, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert 'seeds [0, 1]' in text and 'probe_sweep.py --variants mem-relu mem' in text
    rows = {ln.split('`')[1]: [c.strip() for c in ln.split('|')[2:-1]]
            for ln in text.splitlines() if ln.startswith('| `')}
    assert set(rows) == {'mem-relu', 'mem'}
    acc_relu, acc_snn = (float(rows[v][0].split(' ± ')[0]) for v in ('mem-relu', 'mem'))
    assert rows['mem-relu'][1] == 'analog' and 0.0 <= float(rows['mem'][1]) <= 1.0
    assert rows['mem-relu'][2] == '–'
    # the ratio of the unrounded means; the table shows means to 3 and ratios to 2 decimals
    assert abs(float(rows['mem'][2]) - acc_snn / acc_relu) <= 0.005 + 0.0005 / acc_relu * 2
    assert (tmp_path / 'probe.png').stat().st_size > 1000


def test_sweep_rejects_steps_the_probe_does_not_report(repo_root):
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/probe_sweep.py', '--variants',
         'mem', '--seeds', '0', '--steps', '100', '--report-steps', '30'],
        capture_output=True, text=True, cwd=repo_root, timeout=120)
    assert proc.returncode != 0 and '--report-steps [30]' in proc.stderr
