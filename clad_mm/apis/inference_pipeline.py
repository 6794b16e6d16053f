"""A config's test pipeline, for image files and for images in memory.

The analysis tools feed a classifier images that are files (saliency) or
exist only in memory (adversarial composites, FiveCrop views); both must get
exactly the pixels ``tools/test.py`` would give them. :class:`InferencePipeline`
runs the config's own loading transform on a file (so its decoding options,
e.g. ``imdecode_backend='pillow'``, apply) and the transforms after it on
either.
"""

from mmcv.transforms import Compose, LoadImageFromFile
from mmengine.config import Config
from mmpretrain.registry import TRANSFORMS


class InferencePipeline:
    """``test_dataloader.dataset.pipeline`` of a config, for paths or arrays.

    Args:
        config (Config): An MMPretrain config whose test pipeline starts with
            ``LoadImageFromFile``.

    Raises:
        ValueError: If the config has no test pipeline, or it does not start
            with ``LoadImageFromFile``.
    """

    def __init__(self, config: Config):
        try:
            pipeline_cfg = config.test_dataloader.dataset.pipeline
        except AttributeError:
            raise ValueError(
                f'Config {config.filename} has no test_dataloader.dataset.pipeline '
                'to process images with'
            ) from None
        transforms = [TRANSFORMS.build(transform) for transform in pipeline_cfg]
        if not transforms or not isinstance(transforms[0], LoadImageFromFile):
            first = type(transforms[0]).__name__ if transforms else 'nothing'
            raise ValueError(
                f'The test pipeline of config {config.filename} must start with '
                f'LoadImageFromFile, which in-memory images replace; it starts '
                f'with {first}'
            )
        self._load = transforms[0]
        self._process = Compose(transforms[1:])

    def load_image(self, path: str):
        """Reads an image file as the pipeline's loading transform does.

        Args:
            path (str): The image file.

        Returns:
            np.ndarray: The image (H x W x C, uint8; BGR unless the
            transform's options say otherwise).
        """
        return self._load(dict(img_path=path))['img']

    def __call__(self, image) -> dict:
        """Runs an image through the pipeline.

        Args:
            image (str | np.ndarray): An image file, or an image as
                :meth:`load_image` returns it.

        Returns:
            dict: The packed sample: ``inputs`` (C x H x W tensor, 0-255) and
            ``data_samples``, ready for ``default_collate``.
        """
        if isinstance(image, str):
            results = self._load(dict(img_path=image))
        else:
            results = dict(
                img=image, img_shape=image.shape[:2], ori_shape=image.shape[:2]
            )
        return self._process(results)
