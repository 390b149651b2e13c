"""Where each downloadable dataset comes from: URL, file name in the cache, size and published checksum.

Every URL and checksum below is taken from the metadata of a library that downloads the same file, named next to
it, so a file fetched once by that library is the file spatiallab expects (and the other way round): the cache
folders and file names are the ones those libraries use. ``tests/test_downloads.py`` checks this table against
Keras's installed sources, and against torchvision and medmnist when they are importable (a vendored copy of
medmnist's ``INFO`` otherwise).

Checksums: sha256 where the library publishes one, md5 where md5 is all there is (MedMNIST). Sizes are bytes, shown
before a download (``spatiallab datasets``) and used for its progress when a server sends no Content-Length; only the
checksum decides whether a file is kept. Keras publishes no sizes: those of MNIST and CIFAR-10 are the Content-Length
their servers send (what Keras's own progress bar counts to); TensorFlow Datasets publishes Fashion-MNIST's.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Source:
    """One downloadable file.

    Attributes:
        url: where it is fetched from.
        filename: its name in the cache folder (the owning library's name for it).
        size: its length in bytes; exact when ``size_exact``, else an upper estimate (see MedMNIST below).
        sha256, md5: the published checksums (hex); at least one is set, and sha256 is used when both are.
        origin: the library file (and version) the URL and checksum were taken from.
    """

    url: str
    filename: str
    size: int
    sha256: str | None = None
    md5: str | None = None
    origin: str = ""
    size_exact: bool = True

    def __post_init__(self):
        if not (self.sha256 or self.md5):
            raise ValueError(f"{self.url}: a source needs a published sha256 or md5; got neither")

    @property
    def published_name(self) -> str:
        """The file's name where it is published (the URL's last part), e.g. ``cifar-10-python.tar.gz``; the cache
        may keep it under another (``filename``)."""
        return self.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]

    @property
    def checksum(self) -> tuple[str, str]:
        """``(algorithm, hex digest)`` that a download must match: sha256 when published, else md5."""
        return ("sha256", self.sha256) if self.sha256 else ("md5", self.md5)


# ---------------------------------------------------------------- cache folders of the owning libraries


def keras_datasets_folder() -> Path:
    """Keras's dataset cache: ``$KERAS_HOME/datasets``, or ``~/.keras/datasets`` (keras.utils.get_file's default)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def medmnist_folder() -> Path:
    """The ``medmnist`` package's default root, ``~/.medmnist`` (medmnist/info.py ``get_default_root``)."""
    return Path(os.path.expanduser("~")) / ".medmnist"


# ---------------------------------------------------------------- MNIST (Keras)

MNIST = Source(
    url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
    filename="mnist.npz",
    size=11_490_434,
    sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    origin="keras/src/datasets/mnist.py load_data (origin, file_hash), Keras 3.15.1",
)

# ---------------------------------------------------------------- CIFAR-10, python version (Keras 3, torchvision)

CIFAR10 = Source(
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    # keras.utils.get_file(fname="cifar-10-batches-py-target", extract=True) keeps the archive under this name and
    # extracts it beside it into cifar-10-batches-py-target/; spatiallab reads the archive without extracting it.
    filename="cifar-10-batches-py-target_archive",
    size=170_498_071,
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    md5="c58f30108f718f92721af3b95e74349a",
    origin="url and sha256: keras/src/datasets/cifar10.py load_data (origin, file_hash), Keras 3.15.1; "
    "md5: torchvision/datasets/cifar.py CIFAR10.url/tgz_md5, torchvision 0.29.1",
)

# ---------------------------------------------------------------- Fashion-MNIST (torchvision, TFDS, Keras names)

# Keras's fashion_mnist.load_data fetches these four names into $KERAS_HOME/datasets/fashion-mnist/ but publishes no
# checksum, so the files come from Zalando's own server, the URL torchvision uses, whose md5s torchvision and whose
# sha256s and sizes TensorFlow Datasets publish. Keras's copies have the same sizes; either fills the same cache.
FASHION_MNIST_FOLDER = "fashion-mnist"
_FASHION_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FASHION_ORIGIN = (
    "url and md5: torchvision/datasets/mnist.py FashionMNIST.mirrors/resources, torchvision 0.29.1; sha256 and size: "
    "tensorflow/datasets tensorflow_datasets/url_checksums/fashion_mnist.txt; names and folder: "
    "keras/src/datasets/fashion_mnist.py, Keras 3.15.1"
)
FASHION_MNIST = tuple(
    Source(url=_FASHION_BASE + name, filename=name, size=size, sha256=sha256, md5=md5, origin=_FASHION_ORIGIN)
    for name, size, sha256, md5 in (
        ("train-labels-idx1-ubyte.gz", 29_515,
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", "25c81989df183df01b3e8a0aad5dffbe"),
        ("train-images-idx3-ubyte.gz", 26_421_880,
         "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("t10k-labels-idx1-ubyte.gz", 5_148,
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", "bb300cfdad3c16e7a12a480ee83cd310"),
        ("t10k-images-idx3-ubyte.gz", 4_422_102,
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", "bef4ecab320f06d8554ea6380940ec79"),
    )
)  # fmt: skip

# ---------------------------------------------------------------- MedMNIST v2 / MedMNIST+ (medmnist package)

# Generated from medmnist/info.py INFO, medmnist 3.0.2 (the PyPI wheel), for the 2-D single-label flags:
# flag: (n_channels, images over train + val + test, licence, "MD5 MD5_64 MD5_128 MD5_224"); the URLs follow
# INFO's url / url_<size> pattern, built in _medmnist_source. Left out: chestmnist (multi-label: 14 findings per
# image) and the *mnist3d flags (volumes).
MEDMNIST_ORIGIN = "medmnist/info.py INFO (url, MD5, url_<size>, MD5_<size>), medmnist 3.0.2"
MEDMNIST_RECORD = "https://zenodo.org/records/10519652/files/"
MEDMNIST_SIZES = (28, 64, 128, 224)
_VOLUMES = ("organmnist3d", "nodulemnist3d", "adrenalmnist3d", "fracturemnist3d", "vesselmnist3d", "synapsemnist3d")
MEDMNIST_NOT_SUPPORTED = {
    "chestmnist": "multi-label: 14 findings per image, and spatiallab's experiments are single-label",
    **{flag: "3-D volumes, not images" for flag in _VOLUMES},
}
_MEDMNIST_INFO = {
    "pathmnist": (3, 107180, "CC BY 4.0", "a8b06965200029087d5bd730944a56c1 55aa9c1e0525abe5a6b9d8343a507616 "
        "ac42d08fb904d92c244187169d1fd1d9 2c51a510bcdc9cf8ddb2af93af1eadec"),
    "dermamnist": (3, 10015, "CC BY-NC 4.0", "0744692d530f8e62ec473284d019b0c7 b70a2f5635c6199aeaa28c31d7202e1f "
        "2defd784463fa5243564e855ed717de1 8974907d8e169bef5f5b96bc506ae45d"),
    "octmnist": (1, 109309, "CC BY 4.0", "c68d92d5b585d8d81f7112f81e2d0842 e229e9440236b774d9f0dfef9d07bdaf "
        "0a97e76651ace45c5d943ee3f65b63ae abc493b6d529d5de7569faaef2773ba3"),
    "pneumoniamnist": (1, 5856, "CC BY 4.0", "28209eda62fecd6e6a2d98b1501bb15f 8f4eceb4ccffa70c672198ea285246c6 "
        "05b46931834c231683c68f40c47b2971 d6a3c71de1b945ea11211b03746c1fe1"),
    "retinamnist": (3, 1600, "CC BY 4.0", "bd4c0672f1bba3e3a89f0e4e876791e4 afda852cc34dcda56f86ad2b2457dbcc "
        "e48e916a24454daf90583d4e6efb1a18 eae7e3b6f3fcbda4ae613ebdcbe35348"),
    "breastmnist": (1, 780, "CC BY 4.0", "750601b1f35ba3300ea97c75c52ff8f6 742edef2a1fd1524b2efff4bd7ba9364 "
        "363e4b3f8d712e9b5de15470a2aaadf1 b56378a6eefa9fed602bb16d192d4c8b"),
    "bloodmnist": (3, 17092, "CC BY 4.0", "7053d0359d879ad8a5505303e11de1dc 2b94928a2ae4916078ca51e05b6b800b "
        "adace1e0ed228fccda1f39692059dd4c b718ff6835fcbdb22ba9eacccd7b2601"),
    "tissuemnist": (1, 236386, "CC BY 4.0", "ebe78ee8b05294063de985d821c1c34b 123ece2eba09d0aa5d698fda57103344 "
        "61b955355d7425a89687b06cca3ce0c2 b077128c4a949f0a4eb01517f9037b9c"),
    "organamnist": (1, 58830, "CC BY 4.0", "68e3f8846a6bd62f0c9bf841c0d9eacc 2dcccc29b88e6da5a01161ef20cda288 "
        "eeae80d0a227a8d099027e1b3cfd3b60 50747347e05c87dd3aaf92c49f9f3170"),
    "organcmnist": (1, 23583, "CC BY 4.0", "b9ceb9546e10131b32923c5bbeaea2b1 3ce34a8724ea6f548e6db4744d03b6a9 "
        "773c1f009daa3fe5d9a2a201b2a7ed94 050f5e875dc056f6768abf94ec9995d1"),
    "organsmnist": (1, 25211, "CC BY 4.0", "9ab87b696fb54e2a387ebe992d6ed5f1 53a6d115339d874c25e309a994ff46d3 "
        "ded0c5fa01a95dc4978b956f613e9b8e b354719e553fbbb2513d5533f52a4cb1"),
}
MEDMNIST_FLAGS = tuple(_MEDMNIST_INFO)
MEDMNIST_LICENCES = {flag: licence for flag, (_, _, licence, _) in _MEDMNIST_INFO.items()}


def medmnist_filename(flag: str, size: int) -> str:
    """The medmnist package's name for a file: ``pathmnist.npz`` at 28 px, ``pathmnist_64.npz`` at 64 px."""
    return f"{flag}.npz" if size == 28 else f"{flag}_{size}.npz"


def _medmnist_source(flag: str, size: int) -> Source:
    channels, images, _, md5s = _MEDMNIST_INFO[flag]
    md5 = dict(zip(MEDMNIST_SIZES, md5s.split()))[size]
    filename = medmnist_filename(flag, size)
    # medmnist publishes no sizes: the bound is the uint8 images plus int64 labels, before the npz's compression.
    return Source(
        url=f"{MEDMNIST_RECORD}{filename}?download=1", filename=filename, size=images * (size * size * channels + 8),
        md5=md5, origin=MEDMNIST_ORIGIN, size_exact=False,
    )


MEDMNIST = {(flag, size): _medmnist_source(flag, size) for flag in MEDMNIST_FLAGS for size in MEDMNIST_SIZES}


def medmnist_source(flag: str, size: int = 28) -> Source:
    """The MedMNIST file for ``flag`` (e.g. "pathmnist") at ``size`` px (28, 64, 128 or 224).

    Raises:
        ValueError: an unknown or unsupported flag, or a size MedMNIST does not publish; the message lists both.
    """
    if flag not in MEDMNIST_FLAGS:
        why = MEDMNIST_NOT_SUPPORTED.get(flag)
        found = f"{flag!r} ({why})" if why else repr(flag)
        raise ValueError(f"MedMNIST flag: expected one of {', '.join(MEDMNIST_FLAGS)}; found {found}")
    if size not in MEDMNIST_SIZES:
        raise ValueError(f"MedMNIST image size: expected one of {MEDMNIST_SIZES} (published sizes); found {size}")
    return MEDMNIST[(flag, size)]


def renamed_in_cache(path: str | os.PathLike) -> Source | None:
    """The source whose cached copy ``path`` is, when the cache keeps it under another name than the published one
    (Keras 3 keeps ``cifar-10-python.tar.gz`` as ``cifar-10-batches-py-target_archive``); None otherwise."""
    name = Path(path).name
    return next((source for source in (MNIST, CIFAR10, *FASHION_MNIST)
                 if source.filename == name != source.published_name), None)  # fmt: skip
