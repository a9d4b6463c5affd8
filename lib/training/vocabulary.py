"""The training layer's names and constants, free of Keras: what profiles are
checked against and notebooks label with, importable without starting a
deep-learning backend (rendering from finished runs never needs one)."""

#: the models ``lib.training.models.build`` knows (a test holds them equal)
MODEL_NAMES = ("cnn10", "resnet20v1", "resnet_ablation", "resnet_v1")

#: BatchNormalization's default momentum in Keras, which every article used.
KERAS_BN_MOMENTUM = 0.99

#: what each step of the ResNet-technique ablation adds (steps 1, 6, 7 change
#: training only: DA, mixup, AMSGrad)
RESNET_ABLATION_STEPS = ("base", "+DA", "+BN", "+residual", "+GAP", "+dropout", "+mixup",
                         "+AMSGrad")

#: the natural-vs-artificial article's own losses (``lib.training.losses.LOSSES``)
ARTICLE_LOSSES = ("natural_softmax", "natural_hardmax", "multi_range_softmax",
                  "article_multi_softmax")

#: how a training batch is mixed (``lib.training.pipeline``)
MIXINGS = ("none", "bc", "bc_plus", "mixup")
