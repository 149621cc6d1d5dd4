"""The error extraction engine: CI files in, ranked error occurrences out (no dagster here).

`extract_job(job, raw_store)` reads every file of one job — its log (`job.log_ref`), JUnit
reports (`job.junit_refs`), BuildKit logs (`job.buildkit_refs`) and check-run annotations
(`job.annotations_ref`), refs relative to `raw_store.root` — and returns its error occurrences
ranked cause → symptom → wrapper (rank 0 = the most likely root cause), at most
`max_per_job`, each `text` a redacted excerpt of at most `max_text_chars` characters, with
`fingerprint` left empty for the clustering stage and a deterministic `error_id`. Files that
cannot be read (corrupt, binary, hostile) become `JobExtraction.problems` with the path and
the reason; the job's other files are still extracted.

`extract_paths(paths, kind)` does the same for files given on the command line, each path
standing for one job.

Layout: `detection` (what a file is), `log_scanner` + `prefilter` + `log_lines` +
`line_rules` (streaming logs), `junit`, `annotations`, `ranking` (merge + order), `engine`.
"""

from __future__ import annotations

from error_assets.extraction.detection import KINDS
from error_assets.extraction.engine import extract_file, extract_job, extract_paths

__all__ = ["KINDS", "extract_file", "extract_job", "extract_paths"]
