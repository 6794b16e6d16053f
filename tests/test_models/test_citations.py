"""CLAD is cited as its authors wrote it, with the arXiv link."""

import glob
import inspect
import os.path as osp
import sys

import pytest

import clad_mm  # noqa: F401  (registers the components)
from clad_mm.datasets.transforms import (
    BackgroundSwap,
    LoadStyleImage,
    TextureSwap,
    TwoViewPipeline,
)
from clad_mm.engine.hooks import NegativeDictionaryHook
from clad_mm.models.classifiers.clad_classifier import CLADClassifier
from clad_mm.models.data_preprocessors.stylizing_data_preprocessor import (
    StylizingDataPreprocessor,
)
from clad_mm.models.heads.info_nce_head import InfoNCEHead
from clad_mm.models.memories.negative_dictionary import NegativeDictionary

PACKAGE_ROOT = osp.dirname(osp.abspath(clad_mm.__file__))
CLAD_LINK = '<https://arxiv.org/abs/2210.02748>`_'


def test_no_source_attributes_clad_to_ghosh():
    sources = glob.glob(osp.join(PACKAGE_ROOT, '**', '*.py'), recursive=True)
    assert sources
    citing = [path for path in sources if 'Ghosh' in open(path).read()]
    assert citing == []


@pytest.mark.parametrize(
    'component',
    [
        CLADClassifier,
        NegativeDictionary,
        InfoNCEHead,
        NegativeDictionaryHook,
        BackgroundSwap,
        TextureSwap,
        LoadStyleImage,
        TwoViewPipeline,
        StylizingDataPreprocessor,
    ],
    ids=lambda component: component.__name__,
)
def test_clad_components_link_the_paper(component):
    # The class's docstring, or its module's where the class points there.
    docs = inspect.getdoc(component) + (sys.modules[component.__module__].__doc__ or '')
    assert CLAD_LINK in docs


def test_classifier_names_the_authors():
    doc = inspect.getdoc(CLADClassifier)
    for author in ('Ke Wang', 'Harshitha', 'Machiraju', 'Oh-Hyeon Choung', 'Herzog'):
        assert author in ' '.join(doc.split())
    assert 'Frossard' in doc and 'BMVC' in doc
