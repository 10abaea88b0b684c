"""Wenshi processing stages: files -> pages -> OCR -> clean-up -> tags. Never imports index/."""
