"""Export a fitted NeuralRanker's scoring function to ONNX, for serving."""

import logging
import os
import warnings

import torch
from torch import nn

from ..utils._files import write_atomic

__all__ = ["export_onnx"]


class _Scores(nn.Module):
    """Features in, one ranking score per document out: what ``predict`` computes.

    Wraps the fitted module with the steps ``predict`` adds around it: the
    input transformation (when it has a torch form), the loss's output offset
    and its read-out of a score from the module's outputs.
    """

    def __init__(self, ranker, context_aware):
        super().__init__()
        self.module = ranker.module_
        self.prefix = _torch_prefix(getattr(ranker, "input_transform_", None))
        offset = getattr(ranker, "output_offset_", None)
        self.register_buffer(
            "offset", None if offset is None else offset.detach().float().clone()
        )
        self.read_out = ranker._score_from_output
        self.context_aware = context_aware

    def forward(self, X, mask=None):
        if self.prefix is not None:
            X = self.prefix(X)
        out = self.module(X, mask) if self.context_aware else self.module(X)
        if out.dim() == X.dim() - 1:
            out = out.unsqueeze(-1)
        if self.offset is not None:
            out = out + self.offset
        return self.read_out(out)


class _Affine(nn.Module):
    """``(X - center) / scale``, with an optional symmetric log1p first.

    The log1p measures each feature in its ``unit`` (1 unless given).
    """

    def __init__(self, center, scale, log1p, unit=None):
        super().__init__()
        self.register_buffer("center", torch.as_tensor(center, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.log1p = log1p
        if unit is not None:
            unit = torch.as_tensor(unit, dtype=torch.float32)
        self.register_buffer("unit", unit)

    def forward(self, X):
        if self.log1p:
            magnitude = torch.abs(X) if self.unit is None else torch.abs(X) / self.unit
            X = torch.sign(X) * torch.log1p(magnitude)
        return (X - self.center) / self.scale


def _torch_prefix(transform):
    """The torch form of a fitted input transformation (None: no transform)."""
    if transform is None:
        return None
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from ..preprocessing import SymmetricLog1p

    name = type(transform).__name__
    n = transform.n_features_in_
    if isinstance(transform, StandardScaler):
        centred = transform.with_mean and transform.mean_ is not None
        center = transform.mean_ if centred else np.zeros(n)
        scale = transform.scale_ if transform.scale_ is not None else np.ones(n)
        return _Affine(center, scale, log1p=False)
    if isinstance(transform, SymmetricLog1p):
        mean, scale = transform.mean_, transform.scale_
        return _Affine(
            np.zeros(n) if mean is None else mean,
            np.ones(n) if scale is None else scale,
            log1p=True,
            unit=getattr(transform, "unit_", None),
        )
    raise ValueError(
        f"export_onnx cannot export the input transformation {name}: only "
        "input_transform=None, 'scaled_log1p', 'log1p' or 'standard' have a "
        "torch form. Apply the transformer before the ONNX model instead."
    )


def export_onnx(ranker, path, *, opset_version=None):
    """Write a fitted ranker's scoring function as an ONNX file.

    The file computes exactly what :meth:`NeuralRanker.predict` computes,
    for serving without Python, torch or skrank (e.g. with onnxruntime):

    - a **row-wise** scorer (the default MLP): input ``X`` float32
      ``[n_documents, n_features]``, output ``scores`` ``[n_documents]``;
    - a **context-aware** scorer (e.g. :class:`AttentionScorer`): inputs
      ``X`` float32 ``[n_queries, list_len, n_features]`` (padded lists) and
      ``mask`` bool ``[n_queries, list_len]`` (True = a real document), output
      ``scores`` ``[n_queries, list_len]`` (ignore padded positions).

    Both axes of every input are dynamic. The export uses
    :func:`torch.onnx.export` (its ``dynamo`` exporter, which needs the
    ``onnx`` and ``onnxscript`` packages). A model is saved for reloading in
    Python with :func:`save_ranker` instead; ONNX is for serving.

    Parameters
    ----------
    ranker : NeuralRanker
        A fitted ranker. Its input transformation must have a torch form
        (``input_transform`` None, ``"scaled_log1p"``, ``"log1p"`` or
        ``"standard"``); a user-supplied scikit-learn transformer cannot be
        exported (put it in front of the ONNX model, or convert it with
        skl2onnx).
    path : str or path-like
        The ``.onnx`` file to write (atomically: an existing file is replaced
        only once the new one is complete).
    opset_version : int, default=None
        The ONNX opset (None: the exporter's default).

    Returns
    -------
    path : str
        The path written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skrank import NeuralRanker
    >>> from skrank.estimators import export_onnx
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> y = (X[:, 0] > 0).astype(float)
    >>> ranker = NeuralRanker(max_epochs=2, random_state=0).fit(
    ...     X, y, groups=np.repeat(np.arange(4), 10))
    >>> path = export_onnx(ranker, os.path.join(tempfile.mkdtemp(), "r.onnx"))
    >>> import onnxruntime as ort  # doctest: +SKIP
    >>> session = ort.InferenceSession(path)  # doctest: +SKIP
    >>> session.run(None, {"X": X.astype(np.float32)})[0].shape  # doctest: +SKIP
    (40,)
    """
    ranker.check_is_fitted()
    from ._neural_ranker import _is_context_aware

    context_aware = _is_context_aware(ranker.module_)
    wrapper = _Scores(ranker, context_aware).to("cpu").eval()
    n_features = ranker.n_features_in_
    if context_aware:
        args = (torch.zeros(2, 3, n_features), torch.ones(2, 3, dtype=torch.bool))
        args[1][0, 2] = False
        queries, length = torch.export.Dim("n_queries"), torch.export.Dim("list_len")
        shapes = ({0: queries, 1: length}, {0: queries, 1: length})
        names = ["X", "mask"]
    else:
        args = (torch.zeros(3, n_features),)
        shapes = ({0: torch.export.Dim("n_documents")},)
        names = ["X"]
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        raise ImportError(
            "export_onnx needs the onnx and onnxscript packages: "
            "pip install onnx onnxscript"
        ) from None

    def write(tmp):
        # the exporter's own notices (deprecations, torchvision absent, axis
        # names): nothing a user of this function can act on
        logger = logging.getLogger("torch.onnx")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                for category in (FutureWarning, DeprecationWarning, UserWarning):
                    warnings.simplefilter("ignore", category)
                _export(tmp)
        finally:
            logger.setLevel(level)

    def _export(tmp):
        torch.onnx.export(
            wrapper,
            args,
            tmp,
            input_names=names,
            output_names=["scores"],
            dynamic_shapes=shapes,
            opset_version=opset_version,
            dynamo=True,
            verbose=False,
        )

    was_training = ranker.module_.training
    try:
        with torch.no_grad():
            write_atomic(path, write)
    finally:
        ranker.module_.train(was_training)
    return os.fspath(path)
