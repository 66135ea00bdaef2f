"""What people read: formatting, the notebooks' Workbook, plots and the report runner."""
