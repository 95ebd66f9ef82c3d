"""backprop-tutor: step through one forward pass and one backpropagation step by hand."""

__version__ = "0.1.0"
