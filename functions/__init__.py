"""sheetflow: invoice approval and deal payment watching on a spreadsheet."""
