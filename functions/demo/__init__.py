"""`sheetflow demo`: a scripted story on a new local workbook, with its own stand-in assets."""
