"""The sample-data generator: a realistic archive of failed CI jobs for demos, tests and benchmarks."""

from error_assets.sample.archive import SampleSummary, write_sample

__all__ = ["SampleSummary", "write_sample"]
