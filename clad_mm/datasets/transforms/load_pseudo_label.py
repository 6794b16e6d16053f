"""Look up a training image's ClusterFix pseudo-label (its feature cluster)."""

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from clad_mm.utils.errors import UserError

from ..pseudo_label_file import load_pseudo_labels
from .donor_pool import require_result


@TRANSFORMS.register_module()
class LoadPseudoLabel(BaseTransform):
    """Add the image's global cluster id from a pseudo-label file.

    ClusterFix (Capitani et al., `ClusterFix: A Cluster-Based Debiasing
    Approach Without Protected-Group Supervision
    <https://openaccess.thecvf.com/content/WACV2024/html/Capitani_ClusterFix_A_Cluster-Based_Debiasing_Approach_Without_Protected-Group_Supervision_WACV_2024_paper.html>`_,
    WACV 2024) trains extra heads to predict each image's cluster among its
    class's clusters (``tools/analysis/make_pseudo_labels.py`` writes them).
    The file is read once, when the transform is built; an image missing from
    its split, or whose cluster belongs to another class, is an error naming
    the image and the file: the pseudo-labels were made for other data.
    Pack the key with ``PackInputs(algorithm_keys=('pseudo_label',))``.

    **Required Keys:**

    - img_path (str)
    - gt_label (int)

    **Added Keys:**

    - pseudo_label (int): The global cluster id, ``local + k · gt_label``.

    Args:
        pseudo_labels (str): The pseudo-label JSON file.
        split (str): Its split to read. Defaults to ``'train'``.
    """

    def __init__(self, pseudo_labels: str, split: str = 'train') -> None:
        content = load_pseudo_labels(pseudo_labels)
        if split not in content['splits']:
            raise UserError(
                f'pseudo-label file {pseudo_labels} has no split {split!r}; it has '
                f'{sorted(content["splits"])}'
            )
        self.pseudo_labels = pseudo_labels
        self.split = split
        self.clusters_per_class = content['clusters_per_class']
        self._clusters = content['splits'][split]

    def transform(self, results: dict) -> dict:
        """Adds ``pseudo_label`` to ``results``."""
        name = type(self).__name__
        path = require_result(results, 'img_path', 'the dataset', name)
        label = int(require_result(results, 'gt_label', 'the dataset', name))
        if path not in self._clusters:
            raise UserError(
                f'{path} has no pseudo-label in the {self.split!r} split of '
                f'{self.pseudo_labels}: make the pseudo-labels from this data set '
                '(tools/analysis/make_pseudo_labels.py)'
            )
        cluster = self._clusters[path]
        if cluster // self.clusters_per_class != label:
            raise UserError(
                f'{path} has class {label} but its cluster {cluster} in '
                f'{self.pseudo_labels} belongs to class '
                f'{cluster // self.clusters_per_class}: the pseudo-labels were made '
                'with other labels'
            )
        results['pseudo_label'] = cluster
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(pseudo_labels={self.pseudo_labels!r}, '
            f'split={self.split!r})'
        )
