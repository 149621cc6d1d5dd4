"""error_assets: classify failed CI jobs hour by hour and publish the trend."""

__version__ = "0.1.0"
