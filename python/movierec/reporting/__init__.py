"""Floor 4: the morning report, one self-contained HTML page from the KPI models."""

from movierec.reporting.report import CHARTS, build_report, write_report

__all__ = ["CHARTS", "build_report", "write_report"]
