from mmcv.transforms import LoadImageFromFile
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadBackgroundFromFile(LoadImageFromFile):
    """Load the background image of a sample, e.g. its ONLY-BG-T version.

    Reads ``bg_path`` exactly as :class:`mmcv.transforms.LoadImageFromFile`
    reads ``img_path`` (same decoding, so the same channel order as the
    image: BGR by default), which is what a background swap needs to paste
    a foreground onto it. A missing file raises ``FileNotFoundError`` and an
    undecodable one ``AssertionError('failed to load image: <path>')``, both
    naming the path.

    **Required Keys:**

    - bg_path

    **Added Keys:**

    - bg_img (np.uint8): H×W×3 background image (np.float32 if
      ``to_float32``).

    Args:
        to_float32 (bool): Whether to convert the background to float32.
            Defaults to False.
        color_type (str): The flag argument for :func:`mmcv.imfrombytes`.
            Defaults to ``'color'``.
        imdecode_backend (str): The decoding backend for
            :func:`mmcv.imfrombytes`. Defaults to ``'cv2'``.
        ignore_empty (bool): Whether to return None instead of raising when
            the file is missing or cannot be decoded. Defaults to False.
        backend_args (dict, optional): Arguments to instantiate the file
            backend (see :func:`mmengine.fileio.get`). Defaults to None.
    """

    def transform(self, results: dict) -> dict | None:
        """Adds ``bg_img`` to ``results``.

        Args:
            results (dict): Result dict with ``bg_path``.

        Returns:
            dict | None: ``results`` with ``bg_img``, or None if the file
            cannot be loaded and ``ignore_empty`` is True.
        """
        background = super().transform({'img_path': results['bg_path']})
        if background is None:
            return None
        results['bg_img'] = background['img']
        return results
