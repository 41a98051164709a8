"""movierec: a batch film recommendation warehouse.

Parquet landings -> DuckDB + dbt feature models -> a random forest exported to ONNX ->
a nightly top-N recommendations table.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
