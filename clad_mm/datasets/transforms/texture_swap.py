from mmpretrain.registry import TRANSFORMS

from .masked_swap import MaskedSwap


@TRANSFORMS.register_module()
class TextureSwap(MaskedSwap):
    """Build S-CLAD's positive without a style network: another texture.

    S-CLAD, the texture variant of CLAD (Wang et al., `CLAD: A Contrastive
    Learning based Approach for Background Debiasing
    <https://arxiv.org/abs/2210.02748>`_, BMVC 2022), pulls an image (the
    anchor) towards a positive that keeps the anchor's shape but wears the
    texture of a *different* class, and pushes it away from images that show
    the anchor's class's texture on other shapes.
    The paper re-textures with AdaIN (see :class:`LoadStyleImage` and
    ``StylizingDataPreprocessor``); where a foreground mask is known, as in
    the SynBG texture variant, this transform re-textures exactly and
    without weights: inside the mask the positive shows a donor texture
    image, outside it the anchor is unchanged. It is :class:`BackgroundSwap`
    with the roles of the foreground and the background exchanged: the same
    paste, with the donor as the pasted image and the anchor as the
    background.

    Textures are read from a pool folder: ``texture_root``, or by default
    the training set's own textures, ``<data_root>/only_texture/<split>`` of
    the sample's :class:`BGChallengeTrainDataset`, e.g.
    ``data/synbg_texture/only_texture/train`` (each training image's own
    texture, in its class folder), which follows an overridden
    ``data_root``. They are chosen by ``texture_choice`` (drawing and
    reading as for :class:`BackgroundSwap`; see :class:`DonorPool`):

    - ``'other_class'`` (S-CLAD): the pool holds ``<class>/<stem>.<ext>``
      full-frame texture images. A texture's label is the index of its
      class folder in sorted order, so the pool must hold the dataset's
      class folders. A class is drawn uniformly among the other classes
      than ``gt_label`` (directly, no rejection loop), then an image of it
      uniformly.
    - ``'random'``: any image under the pool folder (recursively, no
      labels); ``pos_texture_label`` is -1.

    A texture of another size than the anchor is resized to it (bilinear,
    aspect ratio not kept).

    Pasting (``blend``), with ``M`` the foreground mask:

    - ``'hard'``: the texture's pixel where ``M`` is non-zero, the anchor's
      elsewhere; exact.
    - ``'soft'``: the texture is alpha-blended over the anchor with weight
      ``M`` blurred by a Gaussian of standard deviation ``soft_sigma``
      pixels, which hides the seam along the outline. What is then exact:
      a pixel more than ``4 * soft_sigma + 1`` pixels away, horizontally or
      vertically, from every foreground pixel keeps the anchor's value, and
      one as far from every background pixel takes the texture's (beyond
      the Gaussian's support, for uint8 images; float32 images are within a
      relative 1e-5 of these values, since OpenCV's blend divides by the
      weight sum plus 1e-5). Nearer the outline, the texture leaks up to
      that distance into the background, and the anchor's own foreground
      into the texture.

    As for :class:`BackgroundSwap`, swap first, at the loaded resolution,
    then augment anchor and positive independently::

        train_pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='LoadForegroundMask'),
            dict(type='TextureSwap'),  # the dataset's only_texture/
            dict(type='TwoViewPipeline', anchor_pipeline=[
                dict(type='RandomResizedCrop', scale=64),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            ]),
            dict(type='PackInputs', algorithm_keys=('pos_texture_label',)),
        ]

    and key the negative dictionary by ``pos_texture_label``
    (``CLADClassifier(dictionary_key='pos_texture_label')``).

    Random draws use numpy's global generator, like mmcv's transforms, so
    mmengine's per-worker seeding makes them reproducible.

    **Required Keys:**

    - img (np.ndarray): H×W×3 anchor image, uint8 (or float32).
    - fg_mask (np.ndarray): H×W, non-zero on the foreground (as added by
      ``LoadForegroundMask``).
    - gt_label (int): The anchor's class; ``'other_class'`` mode only.
    - data_root, split (str): The dataset's root and split (recorded by
      :class:`BGChallengeTrainDataset`); without ``texture_root`` only.

    **Added Keys:**

    - pos_img (np.ndarray): H×W×3 positive, same size and dtype as ``img``.
    - pos_texture_label (int): Class index of the positive's texture, never
      ``gt_label``; -1 in ``'random'`` mode.
    - pos_texture_path (str): File of the positive's texture.

    Args:
        texture_root (str, optional): Pool folder of textures; None for the
            dataset's ``only_texture/<split>``. Defaults to None.
        texture_choice (str): ``'other_class'`` or ``'random'``. Defaults to
            ``'other_class'``.
        blend (str): ``'hard'`` or ``'soft'``. Defaults to ``'hard'``.
        soft_sigma (float): Standard deviation in pixels of the Gaussian
            that softens the mask for ``blend='soft'``. Defaults to 2.0.

    Attributes:
        class_folders (tuple[str]): The pool's class folders in label order
            (empty in ``'random'`` mode).

    Raises:
        FileNotFoundError: If the pool folder is missing, or holds no class
            folder (``'other_class'``), an empty class folder or no image
            (``'random'``).
        ValueError: If the ``'other_class'`` pool has fewer than two classes,
            an argument is unknown, or a class folder holds a non-image.
    """

    donor_kind = 'texture'
    dataset_folder = 'only_texture'
    donor_inside_mask = True
    label_key = 'pos_texture_label'
    path_key = 'pos_texture_path'

    def __init__(
        self,
        texture_root: str | None = None,
        texture_choice: str = 'other_class',
        blend: str = 'hard',
        soft_sigma: float = 2.0,
    ):
        self.texture_root = texture_root
        self.texture_choice = texture_choice
        super().__init__(texture_root, texture_choice, blend, soft_sigma)
