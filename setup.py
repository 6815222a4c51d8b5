"""Install mmdet-hoyer. Use ``make setup`` (tools/misc/setup_env.sh) for the full stack:
mmcv 2.1.0 must be built from a patched source for torch 2.14."""
from pathlib import Path

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    lines = Path(__file__).parent.joinpath('requirements', name).read_text().splitlines()
    return [ln.split('#')[0].strip() for ln in lines if ln.split('#')[0].strip()]


version = {}
exec(Path(__file__).parent.joinpath('mmdet_hoyer', 'version.py').read_text(), version)

setup(
    name='mmdet-hoyer',
    version=version['__version__'],
    description='One-time-step spiking neural networks for object detection trained with '
    'the Hoyer regularizer (Datta, Liu & Beerel, arXiv 2212.10170), as an MMDetection 3.x plugin',
    long_description=Path(__file__).parent.joinpath('README.md').read_text()
    if Path(__file__).parent.joinpath('README.md').exists() else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tools', 'configs')),
    package_data={'mmdet_hoyer.models.layers.neuron': ['csrc/*.cpp']},  # compiled on first use
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt'),
                    'deploy': read_requirements('deploy.txt')},
    license='Apache-2.0',
)
