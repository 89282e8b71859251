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
"""

import torch
from torch import nn

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
    n_members : int, default=5
        Number of independently initialised networks of this shape, an
        ensemble in one module (1: a single network). The output has
        ``n_members * n_outputs`` columns (member by member);
        :class:`NeuralRanker` trains each member on its own loss (the mean
        of the members' losses: their gradients do not mix) and scores with
        the mean of the members' scores, so the members differ by their
        initial weights and input noise.

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
        n_members=5,
    ):
        super().__init__()
        self.input_noise = float(input_noise)
        self.n_members = int(n_members)
        if self.n_members < 1:
            raise ValueError(
                "The 'n_members' parameter of MLPScorer must be an int in the "
                f"range [1, inf). Got {n_members!r} instead."
            )
        networks = [
            _mlp(n_features, n_outputs, hidden_sizes, activation, dropout, norm)
            for _ in range(self.n_members)
        ]
        if linear_skip and hidden_sizes:
            networks = [
                _WideAndDeep(net, nn.Linear(int(n_features), int(n_outputs)))
                for net in networks
            ]
        if self.n_members == 1:
            self.layers = networks[0]
        else:
            self.members = nn.ModuleList(networks)

    def forward(self, X):
        if self.n_members == 1:
            return self.layers(_add_noise(X, self.input_noise, self.training))
        return torch.cat(
            [
                net(_add_noise(X, self.input_noise, self.training))
                for net in self.members
            ],
            dim=-1,
        )


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
        self.input_noise = float(input_noise)
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

    def forward(self, X, mask=None):
        if mask is None:
            mask = torch.ones(X.shape[:-1], dtype=torch.bool, device=X.device)
        X = _add_noise(X, self.input_noise, self.training)
        a = self.encoder(self.project(X), src_key_padding_mask=~mask)
        if self.document is None:
            return self.head(a)
        return self.head(self.document(X) * (1.0 + a))
