import subprocess
import sys


def test_probe_runs_and_reports_accuracy_and_rate(repo_root):
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/classification_probe.py', '--steps',
         '2', '--depth', '11', '--widen-factor', '0.125'],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('step')]
    assert len(lines) == 2 and 'val acc' in lines[-1] and 'firing rate' in lines[-1]
    # the probe's default network is the class default: membrane shortcuts, branch gamma 0.2
    assert 'shortcut=membrane (branch gamma 0.2)' in proc.stdout
    acc = float(lines[-1].split('val acc')[1].split()[0])
    assert 0.0 <= acc <= 1.0


def test_probe_warmup_and_sensitivity_report(repo_root):
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/classification_probe.py', '--steps',
         '2', '--depth', '11', '--widen-factor', '0.125', '--warmup', '0', '2', '--sensitivity'],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert 'sensitivity (initialisation)' in out and 'sensitivity (after 2 steps)' in out
    rows = [ln.split() for ln in out.splitlines()
            if ln.strip().startswith('stages.') and ln.split()[0].endswith('.act')]
    assert len(rows) == 2 * 8  # HoyerVGG11 has 8 spiking layers, reported twice
    for _, noise, other in rows:
        assert 0.0 <= float(noise) <= 1.0 and 0.0 <= float(other) <= 1.0
    # the first layer sees the analog image: 1 % noise flips few of its spikes
    assert float(rows[0][1]) < float(rows[0][2])
    bad = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/classification_probe.py', '--steps',
         '2', '--warmup', '3', '1'], capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert bad.returncode != 0 and '--warmup BEGIN END needs' in bad.stderr


def test_probe_builds_the_requested_shortcut_and_neuron(repo_root):
    proc = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/classification_probe.py', '--steps',
         '1', '--depth', '11', '--widen-factor', '0.125', '--shortcut', 'membrane',
         '--branch-gamma', '0.2', '--exclude-saturated', '--mode', 'channel'],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    net = next(ln for ln in proc.stdout.splitlines() if ln.startswith('network:'))
    assert 'HoyerVGG11' in net and 'shortcut=membrane (branch gamma 0.2)' in net
    assert "mode='channel'" in net and 'exclude_saturated=True' in net

    plain = subprocess.run(
        [sys.executable, f'{repo_root}/projects/gap_study/tools/classification_probe.py', '--steps',
         '1', '--depth', '11', '--widen-factor', '0.125', '--shortcut', 'none',
         '--branch-gamma', 'none'],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert plain.returncode == 0, plain.stderr[-2000:]
    net = next(ln for ln in plain.stdout.splitlines() if ln.startswith('network:'))
    assert 'shortcut=none,' in net and 'branch gamma' not in net


def test_probe_cross_stage_shortcut_flag(repo_root):
    probe = f'{repo_root}/projects/gap_study/tools/classification_probe.py'
    proc = subprocess.run(
        [sys.executable, probe, '--steps', '1', '--depth', '11', '--widen-factor', '0.125',
         '--cross-stage-shortcut'], capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    net = next(ln for ln in proc.stdout.splitlines() if ln.startswith('network:'))
    assert 'shortcut=membrane + cross-stage' in net
    bad = subprocess.run(
        [sys.executable, probe, '--steps', '1', '--shortcut', 'none', '--cross-stage-shortcut'],
        capture_output=True, text=True, cwd=repo_root, timeout=300)
    assert bad.returncode != 0 and 'cross_stage_shortcut' in bad.stderr
    assert 'Traceback' not in bad.stderr
