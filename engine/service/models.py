"""The live model bundle and how a promotion or a new bundle replaces it without a restart.

``ModelHolder`` resolves a reference (an alias such as ``champion``, a version, a run id, a
``models:/`` URI or a local path) to a bundle directory and loads it. ``reload`` checks
whether the reference now points elsewhere (a promotion moved the alias) and, if so, loads
the new bundle first and swaps it in one assignment: readers keep the object they took for
the whole request. A bundle that cannot be resolved or loaded never replaces the live one;
the error is kept in ``last_error`` for ``/readyz`` and the logs.

A bundle fetched from MLflow is downloaded into a directory of its own; the boosters are
read into memory, and the directory is deleted when the bundle is replaced or the holder
closed, so a long-running service that follows many promotions does not fill its disk.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.errors import RetentionError
from engine.scoring.bundle import ModelBundle

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveModel:
    """A loaded bundle and the version it is known by (``retention-bundle/3``, ``path:…``)."""

    bundle: ModelBundle
    version: str
    ref: str
    download: Path | None = None
    """The directory the bundle was downloaded into (None: a local bundle, read in place)."""

    def discard(self) -> None:
        """Delete the downloaded files (the loaded boosters stay usable: they are in memory)."""
        if self.download is not None:
            shutil.rmtree(self.download, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class ModelReload:
    ok: bool
    changed: bool
    version: str
    error: str | None = None


def registry_version(ref: str) -> str | None:
    """The registered version a registry reference points at now; None for a local path."""
    if Path(ref).exists():
        return None
    from engine.scoring.registry import REGISTERED_MODEL, model_uri, use_tracking

    uri = model_uri(ref)
    prefix = f"models:/{REGISTERED_MODEL}"
    if not uri.startswith(prefix):
        return uri  # a run or logged-model URI is immutable: it is its own version
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    use_tracking()
    rest = uri[len(prefix) :]
    try:
        if rest.startswith("@"):
            found = MlflowClient().get_model_version_by_alias(REGISTERED_MODEL, rest[1:])
            return f"{REGISTERED_MODEL}/{found.version}"
    except MlflowException as exc:
        raise RetentionError(f"model {ref!r}: {str(exc).splitlines()[0]}") from exc
    return f"{REGISTERED_MODEL}{rest}"


def load_model(ref: str, version: str | None = None) -> LiveModel:
    """Resolve and load ``ref``; raise a ``RetentionError`` if it cannot be."""
    from engine.scoring.registry import resolve_bundle

    version = version if version is not None else registry_version(ref)
    target = ref if version is None else source_ref(version, ref)
    folder = Path(tempfile.mkdtemp(prefix="retention-model-"))
    try:
        bundle = ModelBundle.load(resolve_bundle(target, cache_dir=folder))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    download: Path | None = folder
    if not any(folder.iterdir()):  # a local bundle, read in place: nothing was fetched
        folder.rmdir()
        download = None
    if version is None:
        version = f"path:{bundle.manifest.data_fingerprint[:12]}:{_signature(Path(ref))}"
    return LiveModel(bundle, version, ref, download)


def _signature(path: Path) -> str:
    """Changes when a bundle directory is rewritten in place (manifest size and mtime)."""
    from engine.scoring.bundle import MANIFEST

    for manifest in (path / MANIFEST, path / "artifacts" / "bundle" / MANIFEST):
        if manifest.is_file():
            stat = manifest.stat()
            return f"{stat.st_size:x}{stat.st_mtime_ns:x}"[-12:]
    return "-"


def source_ref(version: str, ref: str) -> str:
    """Download exactly the version resolved, not whatever the alias says a moment later."""
    from engine.scoring.registry import REGISTERED_MODEL

    prefix = f"{REGISTERED_MODEL}/"
    return version[len(prefix) :] if version.startswith(prefix) else ref


NO_MODEL = "none"
"""The version a holder without a model reports (in answers, /readyz and the metrics)."""


class ModelHolder:
    """The live bundle of a process and how to replace it safely."""

    def __init__(self, ref: str, *, required: bool = True) -> None:
        """Load ``ref``. If it cannot be: raise, or with ``required=False`` start without a
        model (``loaded`` is None, the error in ``last_error``) until a reload finds one —
        the service answers with the rule set's declared fallback meanwhile, instead of
        exiting and being restarted in a loop while, say, the registry starts up."""
        self.ref = ref
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._current: LiveModel | None = None
        try:
            self._current = load_model(ref)
        except Exception as error:
            if required:
                raise
            self.last_error = _error_text(error)
            logger.error("no model loaded, serving the fallback until one loads: %s",
                         self.last_error)  # fmt: skip

    @property
    def loaded(self) -> LiveModel | None:
        """The live model; None until one has loaded (``required=False``)."""
        return self._current

    @property
    def current(self) -> LiveModel:
        """The live model (callers that can do without one read ``loaded``)."""
        if self._current is None:
            raise RetentionError(f"no model loaded: {self.last_error}")
        return self._current

    @property
    def version(self) -> str:
        return NO_MODEL if self._current is None else self._current.version

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.discard()

    def reload(self, *, force: bool = False) -> ModelReload:
        """Load the bundle ``ref`` points at now, if that is another version (or ``force``,
        or no model is loaded yet)."""
        with self._lock:
            live = self._current
            kept = NO_MODEL if live is None else live.version
            try:
                version = registry_version(self.ref)
                if live is None:
                    unchanged = False
                elif version is None and live.version.endswith(f":{_signature(Path(self.ref))}"):
                    unchanged = True
                else:
                    unchanged = version == live.version
                if unchanged and not force:
                    self.last_error = None
                    return ModelReload(ok=True, changed=False, version=kept)
                candidate = load_model(self.ref, version)
            except Exception as error:  # an unloadable artefact must never stop the service
                self.last_error = _error_text(error)
                if isinstance(error, RetentionError):
                    logger.error("model reload failed, keeping %s: %s", kept, self.last_error)
                else:
                    logger.exception("model reload failed, keeping %s", kept)
                return ModelReload(False, False, kept, self.last_error)
            self.last_error = None
            changed = candidate.version != kept
            self._current = candidate
            if live is not None:
                live.discard()  # requests still holding it use its in-memory boosters only
            if changed:
                logger.info("model %s is live (was %s)", candidate.version, kept)
            return ModelReload(ok=True, changed=changed, version=candidate.version)


def _error_text(error: Exception) -> str:
    if isinstance(error, RetentionError):
        return error.message
    return f"{type(error).__name__}: {error}"
