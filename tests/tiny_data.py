"""The tiny SynBG that tests train and test on (importable from any test:
``tests/`` is on ``sys.path`` because it holds the root ``conftest.py``)."""

from clad_mm.data_prep.synthetic.synbg import generate_synbg


def make_tiny_synbg(data_root, seed: int = 0) -> str:
    """Writes a SynBG of 32 px images, 2 training and 2 test images per class.

    Args:
        data_root (str | Path): Folder to write it into.
        seed (int): Generator seed. Defaults to 0.

    Returns:
        str: ``data_root``.
    """
    generate_synbg(
        str(data_root),
        image_size=32,
        train_per_class=2,
        test_per_class=2,
        seed=seed,
        show_progress=False,
    )
    return str(data_root)
