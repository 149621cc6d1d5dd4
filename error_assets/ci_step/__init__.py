"""The CI step (`error-assets ci`): classify a failing job from inside its own workflow.

Modules: `context` (GITHUB_* variables, job-id lookup), `budget` (the hard time limit),
`step` (the stages), `realtime` (published documents and their reconciliation with the
hourly batch), `summary` (the job-summary markdown), `workflow_commands` (`::warning::`,
annotations), `console` (the command's entry point). Nothing here imports dagster, and
anthropic only when the LLM is actually called.
"""
