"""Scorer modules: torch modules that map document features to scores.

The module protocol
-------------------
- A **row-wise** module (the default for any torch module) maps features
  ``[..., n_features]`` to outputs ``[..., n_outputs]``. :class:`NeuralRanker`
  calls it on the real documents of a batch only (``[n_rows, n_features]``),
  so padding never reaches it, and it predicts without ``groups``.
- A **context-aware** module sets the class attribute
  ``context_aware = True`` and is called as ``module(X, mask)`` with padded
  ``X`` of shape ``[n_queries, list_len, n_features]`` and a boolean ``mask``
  ``[n_queries, list_len]`` (True = a real document); it returns
  ``[n_queries, list_len, n_outputs]``. It needs ``groups`` in ``predict``.

``n_outputs`` is the number of outputs the loss needs per document
(``loss.n_outputs``; 1 for all losses but the ordinal one). When a module
class has ``n_features`` / ``n_outputs`` parameters, :class:`NeuralRanker`
fills them in from the data and the loss.

A module may also define ``initialize_from_data(X)``, a data-dependent
initialisation: :class:`NeuralRanker` calls it once per initialisation,
before the first training step, with a float32 tensor of training rows as
the module sees them (after ``input_transform``; at most 65,536 rows and
64 MB, drawn with the ranker's ``random_state``). Warm starts and
``partial_fit`` on a fitted ranker keep what it set.
"""

import numbers

import torch
from torch import nn

from ..utils._validation import Interval, validate_parameter_constraints

__all__ = ["AttentionScorer", "MLPScorer"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
}


def _activation(activation):
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                "The 'activation' parameter must be a str among "
                f"{sorted(_ACTIVATIONS)} or a torch module class. "
                f"Got {activation!r} instead."
            )
        return _ACTIVATIONS[activation]()
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation()
    if isinstance(activation, nn.Module):
        return activation
    raise ValueError(
        "The 'activation' parameter must be a str among "
        f"{sorted(_ACTIVATIONS)} or a torch module class. Got {activation!r} instead."
    )


def _norm(norm, size):
    if norm is None:
        return None
    if norm == "batch":
        return nn.BatchNorm1d(size)
    if norm == "layer":
        return nn.LayerNorm(size)
    raise ValueError(
        "The 'norm' parameter must be a str among {'batch', 'layer'} or None. "
        f"Got {norm!r} instead."
    )


#: scikit-learn constraints of the rates both scorers take
_RATE_CONSTRAINTS = {
    "input_noise": [Interval(numbers.Real, 0.0, None, closed="left")],
    "dropout": [Interval(numbers.Real, 0.0, 1.0, closed="left")],
}


def _check_rates(owner, input_noise, dropout):
    """``input_noise`` in [0, inf) and ``dropout`` in [0, 1), as floats."""
    params = {"input_noise": input_noise, "dropout": dropout}
    validate_parameter_constraints(_RATE_CONSTRAINTS, params, caller_name=owner)
    return float(input_noise), float(dropout)


def _add_noise(X, std, training):
    """``X`` plus Gaussian noise of standard deviation ``std`` when training."""
    if not training or std <= 0:
        return X
    return X + std * torch.randn_like(X)


def _mlp(n_features, n_outputs, hidden_sizes, activation, dropout, norm):
    """``[Linear -> [norm] -> activation -> [dropout]] * k -> Linear``."""
    layers = []
    size = int(n_features)
    for width in hidden_sizes:
        layers.append(nn.Linear(size, int(width)))
        normalisation = _norm(norm, int(width))
        if isinstance(normalisation, nn.BatchNorm1d):
            normalisation = _BatchNormAnyShape(normalisation)
        if normalisation is not None:
            layers.append(normalisation)
        layers.append(_activation(activation))
        if dropout:
            layers.append(nn.Dropout(float(dropout)))
        size = int(width)
    layers.append(nn.Linear(size, int(n_outputs)))
    return nn.Sequential(*layers)


#: n_bins="auto": this many bins, fewer where the encoding would have more
#: than _AUTO_ENCODED_WIDTH columns.
_AUTO_BINS = 16
_AUTO_ENCODED_WIDTH = 1024


class _PiecewiseLinear(nn.Module):
    r"""Piecewise-linear encoding of each feature over its own bins.

    With bin edges :math:`b_{j,0} < \ldots < b_{j,T}` of feature :math:`j`,
    component :math:`t` is :math:`\mathrm{clip}((x_j - b_{j,t-1}) /
    (b_{j,t} - b_{j,t-1}), 0, 1)`: 0 below the bin, 1 above it, linear
    inside (Gorishniy et al., NeurIPS 2022). The output has
    ``n_features * n_bins`` columns, feature by feature. Bins of zero width
    (repeated quantiles of a feature with point masses) output 0.
    """

    def __init__(self, n_features, n_bins):
        super().__init__()
        n_features, n_bins = int(n_features), int(n_bins)
        # before initialize_from_data: standard-normal quantiles from 1% to
        # 99%, bins for standardised inputs (NeuralRanker's default)
        levels = torch.linspace(0.01, 0.99, n_bins + 1, dtype=torch.float64)
        edges = torch.special.ndtri(levels).expand(n_features, -1)
        self.register_buffer("lower", torch.empty(n_features, n_bins))
        self.register_buffer("inv_width", torch.empty(n_features, n_bins))
        self.set_edges(edges)

    @torch.no_grad()
    def set_edges(self, edges):
        """Set the bins from ``[n_features, n_bins + 1]`` non-decreasing edges."""
        edges = edges.to(device="cpu", dtype=torch.float64)  # copied over below
        width = edges[:, 1:] - edges[:, :-1]
        inverse = torch.where(width > 0, 1.0 / width.clamp_min(1e-300), 0.0)
        self.lower.copy_(edges[:, :-1])
        self.inv_width.copy_(inverse)

    @torch.no_grad()
    def initialize_from_data(self, X):
        """Edges at the quantiles of each column of ``X`` ``[n, n_features]``.

        Repeated quantiles are merged and the freed bins moved to the top
        with zero width, so a feature with few distinct values gets fewer
        (real) bins.
        """
        n_bins = self.lower.shape[1]
        # the quantiles of np.quantile's default (linear) method, in float64
        ordered = X.to(torch.float64).sort(dim=0).values.cpu()
        levels = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
        position = levels * (ordered.shape[0] - 1)
        low = position.floor().long()
        high = position.ceil().long()
        frac = (position - low).unsqueeze(1)
        quantiles = ordered[low] + frac * (ordered[high] - ordered[low])
        edges = torch.empty(self.lower.shape[0], n_bins + 1, dtype=torch.float64)
        for j, column in enumerate(quantiles.T):
            unique = torch.unique(column)  # sorted
            edges[j, : unique.numel()] = unique
            edges[j, unique.numel() :] = unique[-1]
        self.set_edges(edges)

    def forward(self, X):
        encoded = (X.unsqueeze(-1) - self.lower) * self.inv_width
        return encoded.clamp(0.0, 1.0).flatten(-2)


class _WideAndDeep(nn.Module):
    """The sum of a network and a linear function of the same inputs."""

    def __init__(self, deep, wide):
        super().__init__()
        self.deep = deep
        self.wide = wide

    def forward(self, x):
        return self.deep(x) + self.wide(x)


class _BatchNormAnyShape(nn.Module):
    """BatchNorm1d over the last axis of a tensor of any rank."""

    def __init__(self, bn):
        super().__init__()
        self.bn = bn

    def forward(self, x):
        shape = x.shape
        return self.bn(x.reshape(-1, shape[-1])).reshape(shape)


def _input_weights(net):
    """The weight matrices that multiply a network's inputs, side by side."""
    if isinstance(net, _WideAndDeep):
        return torch.cat([net.deep[0].weight, net.wide.weight], dim=0)
    return net[0].weight


def _group_norms(weight, n_features):
    """Norm of each feature's input weights: its column and its bin columns."""
    squares = weight.pow(2).sum(0)
    norms = squares[:n_features]
    if squares.shape[0] > n_features:  # the bins, feature by feature
        norms = norms + squares[n_features:].view(n_features, -1).sum(1)
    return norms.clamp_min(1e-12).sqrt()


class MLPScorer(nn.Module):
    r"""Row-wise multi-layer perceptron scorer.

    Each hidden block is ``Linear -> [norm] -> activation -> [dropout]``; a
    final ``Linear`` gives ``n_outputs`` outputs per document:

    .. math::
        f(x) = W_{K+1} \, \sigma(\ldots \sigma(W_1 x + b_1) \ldots) + b_{K+1}

    Parameters
    ----------
    n_features : int
        Number of input features (filled in by :class:`NeuralRanker`).
    n_outputs : int, default=1
        Outputs per document (filled in from the loss).
    hidden_sizes : tuple of int, default=(128, 64)
        Width of each hidden layer; ``()`` gives a linear scorer.
    activation : str or torch.nn.Module class, default="relu"
        Non-linearity after each hidden layer: one of ``"relu"``, ``"gelu"``,
        ``"tanh"``, ``"elu"``, ``"leaky_relu"``, ``"silu"``, or a module class.
    dropout : float, default=0.2
        Dropout probability after each hidden block (training only). It lets
        the default budget train long enough for data with few, long lists
        without overfitting data with many short ones.
    norm : {"batch", "layer"} or None, default=None
        Normalisation inside each hidden block. Batch statistics are taken
        over the real documents of a batch only.
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the inputs in training
        mode only (``module.train()``), a data augmentation that smooths the
        learned function (Qin et al., ICLR 2021); meant for standardised
        inputs. Prediction never adds noise.
    linear_skip : bool, default=False
        Add a linear function of the inputs to each network's output, a
        *wide and deep* scorer (Cheng et al., 2016):
        :math:`f(x) = \mathrm{MLP}(x) + w^\top x`. The linear part learns
        what is linear in the features directly, the MLP the rest.
    n_bins : int or "auto", default="auto"
        Feed each network the features and their *piecewise-linear
        encoding* (Gorishniy et al. [1]_) over ``n_bins`` quantile bins of
        each feature: component :math:`t` of feature :math:`j` is
        :math:`\mathrm{clip}((x_j - b_{j,t-1}) / (b_{j,t} - b_{j,t-1}), 0, 1)`.
        The bins give the first layer the axis-aligned steps a tree splits
        on, which a ReLU network otherwise approximates slowly. The edges
        :math:`b` are quantiles of the training rows, set by
        :meth:`initialize_from_data` (which :class:`NeuralRanker` calls);
        before that, standard-normal quantiles. The first layer sees
        ``n_features * (1 + n_bins)`` inputs. 0 feeds the features alone.
        ``"auto"`` is 16 bins up to 64 features and fewer beyond, so that
        the encoding has at most 1,024 columns (``1024 // n_features``
        bins), and none above 512 features: the first layer's cost grows
        with its width, and a fit on 136 features with 16 bins took four
        times as long as without for a small gain.
    alternate_bins : bool, default=True
        With bins and several members, feed every second member (the 2nd,
        4th, ...) the features alone: an ensemble of networks that can place
        steps and of smooth ones, which err in different places (3 of the 5
        default members are binned). False feeds every member the encoding.
    n_members : int, default=5
        Number of independently initialised networks of this shape, an
        ensemble in one module (1: a single network). The output has
        ``n_members * n_outputs`` columns (member by member);
        :class:`NeuralRanker` trains each member on its own loss (the mean
        of the members' losses: their gradients do not mix) and scores with
        the mean of the members' scores, so the members differ by their
        initial weights and input noise.

    References
    ----------
    .. [1] Y. Gorishniy, I. Rubachev and A. Babenko, "On Embeddings for
       Numerical Features in Tabular Deep Learning", NeurIPS 2022.

    Examples
    --------
    >>> import torch
    >>> from skrank.estimators import MLPScorer
    >>> mlp = MLPScorer(n_features=5, hidden_sizes=(8,), n_members=1)
    >>> mlp(torch.zeros(3, 4, 5)).shape
    torch.Size([3, 4, 1])
    >>> MLPScorer(n_features=5, hidden_sizes=(8,))(torch.zeros(3, 4, 5)).shape
    torch.Size([3, 4, 5])
    """

    context_aware = False

    def __init__(
        self,
        n_features,
        n_outputs=1,
        hidden_sizes=(128, 64),
        activation="relu",
        dropout=0.2,
        norm=None,
        input_noise=0.0,
        linear_skip=False,
        n_bins="auto",
        alternate_bins=True,
        n_members=5,
    ):
        super().__init__()
        self.input_noise, dropout = _check_rates("MLPScorer", input_noise, dropout)
        self.n_members = int(n_members)
        self.n_features = int(n_features)
        if n_bins == "auto":
            n_bins = min(_AUTO_BINS, _AUTO_ENCODED_WIDTH // max(int(n_features), 1))
            n_bins = n_bins if n_bins >= 2 else 0
        for name, value, low, also in (
            ("n_members", n_members, 1, ""),
            ("n_bins", n_bins, 0, " or 'auto'"),
        ):
            if isinstance(value, str) or int(value) < low:
                raise ValueError(
                    f"The '{name}' parameter of MLPScorer must be an int in the "
                    f"range [{low}, inf){also}. Got {value!r} instead."
                )
        self.encoding = _PiecewiseLinear(n_features, n_bins) if n_bins else None
        # which members see the encoding: all, or every other one
        self.binned = tuple(
            bool(n_bins) and (not alternate_bins or m % 2 == 0)
            for m in range(self.n_members)
        )
        networks = []
        for binned in self.binned:
            width = int(n_features) * (1 + int(n_bins) if binned else 1)
            net = _mlp(width, n_outputs, hidden_sizes, activation, dropout, norm)
            if linear_skip and hidden_sizes:
                net = _WideAndDeep(net, nn.Linear(width, int(n_outputs)))
            networks.append(net)
        if self.n_members == 1:
            self.layers = networks[0]
        else:
            self.members = nn.ModuleList(networks)

    def initialize_from_data(self, X):
        """Set the encoding's bin edges to quantiles of the rows ``X``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_rows, n_features)
            Training rows (NeuralRanker passes a random sample of up to
            65,536 of them). Does nothing when ``n_bins=0``.
        """
        if self.encoding is not None:
            self.encoding.initialize_from_data(X)

    def feature_norms(self):
        r"""Norm of each feature's first-layer weights, per member.

        Member :math:`m`'s group of feature :math:`j` is the column of its
        first layer (and of the linear skip) that multiplies :math:`x_j`
        and, for a binned member, the columns of :math:`x_j`'s bins:
        :math:`\lVert W^{(m)}_{:, G_j} \rVert_2`. ``NeuralRanker``'s
        ``feature_penalty`` penalises their sum (a group lasso); a feature
        whose norms are all 0 does not affect the scores.

        Returns
        -------
        norms : torch.Tensor of shape (n_members, n_features)
            Row :math:`m`, column :math:`j`: member :math:`m`'s norm for
            feature :math:`j` (differentiable: a penalty can use it).
        """
        nets = self.members if self.n_members > 1 else [self.layers]
        n = self.n_features
        return torch.stack([_group_norms(_input_weights(net), n) for net in nets])

    def _inputs(self, X, binned):
        X = _add_noise(X, self.input_noise, self.training)
        if not binned:
            return X
        return torch.cat([X, self.encoding(X)], dim=-1)

    def forward(self, X):
        if self.n_members == 1:
            return self.layers(self._inputs(X, self.binned[0]))
        pairs = list(zip(self.members, self.binned, strict=True))
        if self.input_noise and self.training:  # each member its own noise
            outputs = [net(self._inputs(X, binned)) for net, binned in pairs]
        else:  # the same inputs: encoded once
            inputs = {binned: self._inputs(X, binned) for binned in set(self.binned)}
            outputs = [net(inputs[binned]) for net, binned in pairs]
        return torch.cat(outputs, dim=-1)


class AttentionScorer(nn.Module):
    r"""Context-aware scorer: a document MLP crossed with list self-attention.

    Two towers meet in a *latent cross* (Qin et al. [1]_, after Beutel et
    al.'s latent cross for recommender context):

    - the **document tower**, an MLP on each document alone, gives
      :math:`h_i = \mathrm{MLP}(x_i) \in \mathbb{R}^{d}`;
    - the **list tower** projects the features to ``d_model`` and passes them
      through ``n_layers`` Transformer encoder layers that attend over the real
      documents of the same query (padding masked), giving
      :math:`a_i \in \mathbb{R}^{d}`: document :math:`i` seen against the
      others of its list;

    and the score is a linear head on their elementwise product,

    .. math::
        f(X)_i = W_o \, \big(h_i \odot (1 + a_i)\big) + b_o,

    so the list context rescales the document's own representation instead of
    replacing it: with :math:`a_i = 0` the scorer is the plain MLP.
    ``latent_cross=False`` gives the plain self-attention scorer of allRank
    [2]_, :math:`f(X)_i = W_o a_i + b_o`. There is no positional encoding:
    a document's score depends on the set of documents, not on their order.

    Parameters
    ----------
    n_features : int
        Number of input features (filled in by :class:`NeuralRanker`).
    n_outputs : int, default=1
        Outputs per document (filled in from the loss).
    d_model : int, default=64
        Width of the encoder and of the crossed representations.
    n_heads : int, default=4
        Attention heads (must divide ``d_model``).
    n_layers : int, default=2
        Encoder layers.
    dim_feedforward : int, default=128
        Width of the encoder's feed-forward blocks.
    dropout : float, default=0.1
        Dropout inside the encoder.
    hidden_sizes : tuple of int, default=(128,)
        Hidden layers of the document tower before its final
        ``Linear -> ReLU`` to ``d_model`` (unused without latent cross).
    latent_cross : bool, default=True
        Cross the two towers; False scores from the encoder alone.
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the inputs in training
        mode only (see :class:`MLPScorer`).

    References
    ----------
    .. [1] Z. Qin, L. Yan, H. Zhuang, Y. Tay, R. K. Pasumarthi, X. Wang,
       M. Bendersky and M. Najork, "Are Neural Rankers still Outperformed by
       Gradient Boosted Decision Trees?", ICLR 2021.
    .. [2] P. Pobrotyn, T. Bartczak, M. Synowiec, R. Białobrzeski and
       J. Bojar, "Context-Aware Learning to Rank with Self-Attention",
       SIGIR eCom 2020.

    Examples
    --------
    >>> import torch
    >>> from skrank.estimators import AttentionScorer
    >>> net = AttentionScorer(n_features=5, d_model=8, n_heads=2, n_layers=1)
    >>> mask = torch.tensor([[True, True, False]])
    >>> net(torch.zeros(1, 3, 5), mask).shape
    torch.Size([1, 3, 1])
    """

    context_aware = True

    def __init__(
        self,
        n_features,
        n_outputs=1,
        d_model=64,
        n_heads=4,
        n_layers=2,
        dim_feedforward=128,
        dropout=0.1,
        hidden_sizes=(128,),
        latent_cross=True,
        input_noise=0.0,
    ):
        super().__init__()
        d_model = int(d_model)
        self.input_noise, dropout = _check_rates(
            "AttentionScorer", input_noise, dropout
        )
        self.project = nn.Linear(int(n_features), d_model)
        layer = nn.TransformerEncoderLayer(
            d_model=d_model,
            nhead=int(n_heads),
            dim_feedforward=int(dim_feedforward),
            dropout=float(dropout),
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers=int(n_layers), enable_nested_tensor=False
        )
        self.document = None
        if latent_cross:
            layers = []
            size = int(n_features)
            for width in (*hidden_sizes, d_model):
                layers += [nn.Linear(size, int(width)), nn.ReLU()]
                size = int(width)
            self.document = nn.Sequential(*layers)
        self.head = nn.Linear(d_model, int(n_outputs))

    def feature_norms(self):
        r"""Norm of each feature's input weights, as one member.

        Feature :math:`j`'s group is its column of the list tower's
        projection and of the document tower's first layer (see
        :meth:`MLPScorer.feature_norms`).

        Returns
        -------
        norms : torch.Tensor of shape (1, n_features)
            The norm of each feature's columns in both towers.
        """
        weight = self.project.weight
        if self.document is not None:
            weight = torch.cat([weight, self.document[0].weight], dim=0)
        return _group_norms(weight, weight.shape[1]).unsqueeze(0)

    def forward(self, X, mask=None):
        if mask is None:
            mask = torch.ones(X.shape[:-1], dtype=torch.bool, device=X.device)
        X = _add_noise(X, self.input_noise, self.training)
        a = self.encoder(self.project(X), src_key_padding_mask=~mask)
        if self.document is None:
            return self.head(a)
        return self.head(self.document(X) * (1.0 + a))
