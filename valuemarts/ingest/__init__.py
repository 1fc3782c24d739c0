"""Getting export files into the warehouse's landing tables, once each."""
