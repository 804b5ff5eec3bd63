"""lesion-mtl training: multi-task MobileNetV2 U-Net for ISIC 2017 (PyTorch → ONNX)."""
