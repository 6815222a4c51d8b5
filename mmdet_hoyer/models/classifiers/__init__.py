from .backbone_classifier import BackboneClassifier

__all__ = ['BackboneClassifier']
