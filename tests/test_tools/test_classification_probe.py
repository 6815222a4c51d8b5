import subprocess
import sys


def test_probe_runs_and_reports_accuracy_and_rate(repo_root):
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/tools/analysis_tools/classification_probe.py', '--steps',
         '2', '--depth', '11', '--widen-factor', '0.125'],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('step')]
    assert len(lines) == 2 and 'val acc' in lines[-1] and 'firing rate' in lines[-1]
    acc = float(lines[-1].split('val acc')[1].split()[0])
    assert 0.0 <= acc <= 1.0
