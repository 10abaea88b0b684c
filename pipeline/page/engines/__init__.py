"""OCR engines behind one seam. `tesseract` (pytesseract; its sole importer) today."""
