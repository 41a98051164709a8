"""The morning report: the KPI models as one self-contained HTML page."""
